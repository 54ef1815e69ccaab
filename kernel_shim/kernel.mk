# kernel_shim/kernel.mk: `make kernel` (boot sector, demo kernel, ATA test
# kernel: core/ + kernel_shim/ cross-compiled with CROSS_COMPILE, no libc,
# no libgcc) and `make demo` (boot it under QEMU). Included by the Makefile.
K_CC      := $(CROSS_COMPILE)gcc
K_LD      := $(CROSS_COMPILE)ld
K_OBJCOPY := $(CROSS_COMPILE)objcopy
KB        := $(BUILD)/kernel

# The freestanding flags of linker/freestanding.mk (i686 by default: both
# i686-linux-gnu- and i686-elf- work). -O2: under QEMU's TCG the CRC and
# qcow2 loops dominate.
K_CFLAGS  := $(FS_BASE_CFLAGS) $(FS_ARCH_FLAGS) -O2 -Ikernel_shim
K_SHIM_CFLAGS = $(K_CFLAGS) -Werror
K_LDFLAGS := -m elf_i386 -nostdlib --gc-sections -T linker/kernel.ld

K_CORE_OBJ := $(patsubst %.c,$(KB)/%.o,$(CORE_SRC))
K_SHIM_OBJ := $(KB)/kernel_shim/entry.o $(KB)/kernel_shim/mem.o \
              $(KB)/kernel_shim/hooks.o $(KB)/kernel_shim/serial.o \
              $(KB)/kernel_shim/ata.o $(KB)/kernel_shim/idt.o
# core/ goes in as a static library, as in any other kernel: only the
# members the kernel uses are linked (see docs/porting.md).
K_LIB      := $(KB)/libhdi.a
K_DEMO_OBJ := $(K_SHIM_OBJ) $(KB)/kernel_shim/demo.o
K_TEST_OBJ := $(K_SHIM_OBJ) $(KB)/kernel_shim/ktest.o
K_GPT_OBJ  := $(K_SHIM_OBJ) $(KB)/kernel_shim/kgpt.o

K_OUT := $(KB)/boot.bin $(KB)/boot-chs.bin $(KB)/kernel.bin $(KB)/ktest.bin \
         $(KB)/kgpt.bin

kernel: $(K_OUT)
	@echo "kernel: $(KB)/boot.bin (440 bytes), $(KB)/kernel.bin ($$(wc -c < $(KB)/kernel.bin) bytes), $(KB)/ktest.bin"

$(KB)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(call say,K-CC,$@)
	$(Q)$(K_CC) $(K_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(K_LIB): $(K_CORE_OBJ)
	@rm -f $@
	$(call say,K-AR,$@)
	$(Q)$(CROSS_COMPILE)ar rcs $@ $^

$(KB)/kernel_shim/%.o: kernel_shim/%.c
	@mkdir -p $(dir $@)
	$(call say,K-CC,$@)
	$(Q)$(K_CC) $(K_SHIM_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(KB)/kernel_shim/%.o: kernel_shim/%.S
	@mkdir -p $(dir $@)
	$(call say,K-AS,$@)
	$(Q)$(K_CC) $(K_SHIM_CFLAGS) $(DEPFLAGS) -c $< -o $@

# The boot sector: exactly 440 bytes (boot.S pads with .org and fails to
# assemble when it outgrows them); boot-chs.bin never tries INT 13h
# extensions, so the tests can exercise the CHS path.
$(KB)/boot.bin $(KB)/boot-chs.bin: $(KB)/%.bin: $(KB)/%.o
	$(K_LD) -m elf_i386 -nostdlib -Ttext=0x7c00 -e _start -o $(@:.bin=.elf) $<
	$(K_OBJCOPY) -O binary -j .text $(@:.bin=.elf) $@
	@test "$$(wc -c < $@)" -eq 440 || { echo "$@: not 440 bytes" >&2; rm -f $@; exit 1; }
$(KB)/boot.o: kernel_shim/boot.S
	@mkdir -p $(dir $@)
	$(K_CC) -c $< -o $@
$(KB)/boot-chs.o: kernel_shim/boot.S
	@mkdir -p $(dir $@)
	$(K_CC) -DFORCE_CHS -c $< -o $@

# No libgcc is linked. Before linking, the shared check names every symbol
# the objects and the library members they pull in need and nobody defines
# (a 64-bit division helper such as __udivdi3, say), so the failure says
# what to fix; the linker script supplies the three allowed here.
define k_link
	$(call fs_undef_check,$(1:.elf=.all.o),$(2) $(or $(3),$(K_LIB)),_kernel_sectors __bss_start __bss_end,kernel)
	$(call say,K-LD,$(1))
	$(Q)$(K_LD) $(K_LDFLAGS) -Map=$(1:.elf=.map) -o $(1) $(2) $(or $(3),$(K_LIB))
endef

$(KB)/kernel.elf: $(K_DEMO_OBJ) $(K_LIB) linker/kernel.ld
	$(call k_link,$@,$(K_DEMO_OBJ))
$(KB)/ktest.elf: $(K_TEST_OBJ) $(K_LIB) linker/kernel.ld
	$(call k_link,$@,$(K_TEST_OBJ))
$(KB)/kgpt.elf: $(K_GPT_OBJ) $(K_LIB) linker/kernel.ld
	$(call k_link,$@,$(K_GPT_OBJ))

# The bootloader-sized example: kernel_shim/stage2.c with the core built
# read-only at -Os (include/hdi/config.h), as a stage 2 would link it.
K_RO_DEFS  := -DHDI_CONFIG_READONLY=1 -DHDI_CONFIG_ZSTD=0 -DHDI_CONFIG_GPT=0
K_RO_LIB   := $(KB)/ro/libhdi.a
K_RO_OBJ   := $(patsubst %.c,$(KB)/ro/%.o,$(CORE_SRC))
K_S2_OBJ   := $(K_SHIM_OBJ) $(KB)/kernel_shim/stage2.o
$(KB)/ro/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(call say,K-CC,$@)
	$(Q)$(K_CC) $(filter-out -O2,$(K_CFLAGS)) -Os $(K_RO_DEFS) $(DEPFLAGS) -c $< -o $@
$(K_RO_LIB): $(K_RO_OBJ)
	@rm -f $@
	$(call say,K-AR,$@)
	$(Q)$(CROSS_COMPILE)ar rcs $@ $^
$(KB)/stage2.elf: $(K_S2_OBJ) $(K_RO_LIB) linker/kernel.ld
	$(call k_link,$@,$(K_S2_OBJ),$(K_RO_LIB))
kernel: $(KB)/stage2.bin

$(KB)/%.bin: $(KB)/%.elf
	$(K_OBJCOPY) -O binary $< $@

# `make demo`: the README's main job. Missing Debian packages first, then
# edqcow2 and the kernel, then kernel_shim/demo.sh builds the images with
# edqcow2 alone and boots them.
demo: deps
	@$(MAKE) --no-print-directory all kernel
	@BUILD=$(BUILD) sh kernel_shim/demo.sh
