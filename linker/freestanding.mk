# linker/freestanding.mk: the one definition of how core/ is compiled for a
# kernel (no libc, no libgcc) and the one undefined-symbol check; the
# Makefile's `make freestanding` and kernel_shim/kernel.mk both use them.
#
#   make freestanding CROSS_COMPILE=arm-none-eabi-
#   make freestanding CROSS_COMPILE=arm-none-eabi- FS_ARCH_FLAGS="-mthumb -mcpu=cortex-m0" FS_NAME=cortex-m0
#   make install-freestanding CROSS_COMPILE=... PREFIX=... (see docs/porting.md)

FS_CC    := $(CROSS_COMPILE)gcc
FS_AR    := $(CROSS_COMPILE)ar
FS_NM    := $(CROSS_COMPILE)nm
FS_SIZE  := $(CROSS_COMPILE)size

# Code-generation flags per target; FS_ARCH_FLAGS on the command line wins.
# Kernel code keeps off the FPU/SIMD registers (no lazy FPU state needed).
FS_ARCH_DEFAULT = $(strip \
  $(if $(filter arm-%,$(FS_TRIPLET)),-mthumb -mcpu=cortex-m4,\
  $(if $(filter aarch64-%,$(FS_TRIPLET)),-mgeneral-regs-only,\
  $(if $(filter riscv64-%,$(FS_TRIPLET)),-march=rv64imac -mabi=lp64 -mcmodel=medany,\
  $(if $(filter riscv32-%,$(FS_TRIPLET)),-march=rv32imac -mabi=ilp32,\
  $(if $(filter x86_64-%,$(FS_TRIPLET)),-mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mcmodel=kernel,\
  -march=i686 -mno-mmx -mno-sse))))))
FS_TRIPLET    := $(patsubst %-,%,$(notdir $(CROSS_COMPILE)))
FS_ARCH_FLAGS ?= $(FS_ARCH_DEFAULT)
FS_OPT        ?= -Os
# Output directory per target: FS_NAME names a variant of one toolchain.
FS_NAME       ?= $(FS_TRIPLET)
FS_DIR        ?= $(if $(filter i686-linux-gnu,$(FS_NAME)),$(BUILD)/freestanding,$(BUILD)/freestanding-$(FS_NAME))

# Only the compiler's own freestanding headers (stddef.h, stdint.h, ...),
# never a target libc's (newlib, glibc): what a bare toolchain has.
FS_INC         = $(shell $(FS_CC) -print-file-name=include 2>/dev/null)
FS_BASE_CFLAGS = $(CSTD) $(WARN) -fvisibility=hidden -ffreestanding -fno-pic -fno-pie \
                 -fno-stack-protector -fno-asynchronous-unwind-tables \
                 -ffunction-sections -fdata-sections \
                 $(if $(FS_INC),-nostdinc -isystem $(FS_INC)) -Iinclude
FS_CFLAGS      = $(FS_BASE_CFLAGS) $(FS_ARCH_FLAGS) $(FS_OPT) -Werror $(DEPFLAGS)

# What a kernel supplies to the library: these four, nothing else.
FS_ALLOWED_UNDEF := memcpy memmove memset memcmp

# $(call fs_undef_check,OUT.o,OBJECTS AND ARCHIVES,EXTRA ALLOWED,WHO):
# links the inputs into one relocatable object (calls between them resolve,
# archive members are pulled as a linker would) and fails naming every
# symbol still undefined that is not allowed: no libc, no libgcc is linked,
# so a 64-bit division helper such as __udivdi3 shows up here.
define fs_undef_check
	$(Q)$(FS_CC) $(FS_ARCH_FLAGS) -nostdlib -r -o $(1) $(2)
	$(Q)bad=$$($(FS_NM) -u $(1) | awk '{print $$NF}' | sort -u | \
		grep -vxE '$(subst $() ,|,$(strip $(FS_ALLOWED_UNDEF) $(3)))' || true); \
	if [ -n "$$bad" ]; then \
		echo "$(4): undefined symbols, and no libc or libgcc is linked:" $$bad >&2; exit 1; fi
endef

FS_OBJ := $(patsubst %.c,$(FS_DIR)/%.o,$(CORE_SRC))

# CPUs without a divide instruction or 64-bit shifts (Cortex-M0, rv32) make
# GCC call its arithmetic helpers (__aeabi_uidiv, __ashldi3, ...), which
# live in libgcc. FS_SHIM_HELPERS=yes links kernel_shim/cc_helpers.c (and
# the Thumb-1 switch helper on arm) into the check, as a kernel without
# libgcc would, and prints which helpers the core needs.
FS_SHIM_HELPERS ?=
FS_HELPER_OBJ := $(FS_DIR)/kernel_shim/cc_helpers.o \
                 $(if $(filter arm-%,$(FS_TRIPLET)),$(FS_DIR)/kernel_shim/cc_helpers_thumb1.o)

$(FS_DIR)/%.o: %.S
	@mkdir -p $(dir $@)
	$(call say,FS-AS,$@)
	$(Q)$(FS_CC) $(FS_ARCH_FLAGS) -c $< -o $@

$(FS_DIR)/libcchelpers.a: $(FS_HELPER_OBJ)
	@rm -f $@
	$(Q)$(FS_AR) rcs $@ $^

$(FS_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,FS-CC,$@)
	$(Q)$(FS_CC) $(FS_CFLAGS) -c $< -o $@

$(FS_DIR)/libhdi.a: $(FS_OBJ)
	@rm -f $@
	$(call say,FS-AR,$@)
	$(Q)$(FS_AR) rcs $@ $^

# Every core object linked together: only mem* may remain undefined.
freestanding: $(FS_DIR)/libhdi.a $(if $(FS_SHIM_HELPERS),$(FS_DIR)/libcchelpers.a)
	$(call fs_undef_check,$(FS_DIR)/hdi-all.o,$(FS_OBJ) $(if $(FS_SHIM_HELPERS),$(FS_DIR)/libcchelpers.a),,freestanding $(FS_NAME))
	$(if $(FS_SHIM_HELPERS),@$(FS_CC) $(FS_ARCH_FLAGS) -nostdlib -r -o $(FS_DIR)/hdi-core.o $(FS_OBJ) && \
		echo "freestanding: $(FS_NAME) needs from kernel_shim/cc_helpers: $$($(FS_NM) -u $(FS_DIR)/hdi-core.o | \
		awk '{print $$NF}' | grep -vxE '$(subst $() ,|,$(FS_ALLOWED_UNDEF))' | sort -u | tr '\n' ' ')")
	@echo "freestanding: $(FS_NAME) ($(FS_ARCH_FLAGS) $(FS_OPT)): .text $$($(FS_SIZE) -A $(FS_DIR)/hdi-all.o | \
		awk '$$1 ~ /^\.text/ {t += $$2} END {print t}') bytes, only $(FS_ALLOWED_UNDEF) undefined"
