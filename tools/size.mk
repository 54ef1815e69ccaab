# tools/size.mk: `make size`. core/ is compiled with the freestanding flags
# of linker/freestanding.mk (i686 -Os by default, -ffunction-sections, so a
# link keeps only what it reaches) once per configuration of
# include/hdi/config.h; tools/size.py
# prints .text per module and configuration, what a reader links, and the
# read-only stage-2 example (kernel_shim/stage2.c), then checks the size
# targets; then the whole core's .text for every freestanding target of
# docs/porting.md (host_test/matrix/freestanding.sh, as make matrix). Included by the Makefile; the figures go to docs/performance.md.
.PHONY: size

# name: -D flags. full: the defaults (everything on). readonly: what a
# bootloader links (read path, zlib, bdev, MBR). minimal: read path alone.
SIZE_CONFIGS      := full readonly minimal
SIZE_DEFS_full     :=
SIZE_DEFS_readonly  = $(K_RO_DEFS)
SIZE_DEFS_minimal  := -DHDI_CONFIG_READONLY=1 -DHDI_CONFIG_ZLIB=0 \
                      -DHDI_CONFIG_ZSTD=0 -DHDI_CONFIG_GPT=0 -DHDI_CONFIG_MBR=0
SIZE_CFLAGS        = $(FS_CFLAGS)
# Targets (bytes): the read-only configuration's reader <= 24 KiB, the whole
# library <= 128 KiB.
SIZE_TARGETS      := reader:readonly=24576 total:full=131072

define size_config
$(BUILD)/size/$(1)/%.o: core/%.c
	@mkdir -p $$(dir $$@)
	$$(call say,FS-CC,$$@)
	$$(Q)$$(FS_CC) $$(SIZE_CFLAGS) $$(SIZE_DEFS_$(1)) -c $$< -o $$@
endef
$(foreach c,$(SIZE_CONFIGS),$(eval $(call size_config,$(c))))
SIZE_OBJ := $(foreach c,$(SIZE_CONFIGS),$(patsubst core/%.c,$(BUILD)/size/$(c)/%.o,$(CORE_SRC)))

size: $(SIZE_OBJ) $(BUILD)/kernel/stage2.elf
	@python3 tools/size.py --size $(FS_SIZE) --ld $(CROSS_COMPILE)ld --src core \
		--title "make size: .text bytes, $(FS_CC) $(FS_ARCH_FLAGS) $(FS_OPT), per module and configuration (hdi/config.h)" \
		$(foreach c,$(SIZE_CONFIGS),--config $(c)=$(BUILD)/size/$(c)) \
		--reader-config readonly --reader-config minimal --reader-config full \
		--stage2 $(BUILD)/kernel/stage2.elf $(BUILD)/kernel/stage2.map \
		$(foreach t,$(SIZE_TARGETS),--target $(t))
	@echo
	@echo "every freestanding target (make matrix builds the same):"
	@BUILD=$(BUILD) sh host_test/matrix/freestanding.sh | sed -n 's/^# //p'
