# hdi: freestanding disk-image library and the edqcow2 host tool. GNU Make.
# Sources are found by wildcard, so adding a file needs no edit here.
CC            ?= cc
CLANG         ?= clang
CROSS_COMPILE ?= i686-linux-gnu-
BUILD         ?= build

WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CSTD      := -std=c99
HOST_OPT  ?= -O2 -g
CPPFLAGS  := -Iinclude -Ihost
CFLAGS    := $(CSTD) $(WARN) $(HOST_OPT) -MMD -MP

CORE_SRC  := $(sort $(wildcard core/*.c))
# host/: product code for hosts (the file device); host_test/: tests and
# test devices, never linked into edqcow2 or bench.
HOST_SRC  := $(sort $(wildcard host/*.c))
TDEV_SRC  := host_test/dev_ram.c
TOOL_SRC  := $(sort $(wildcard tools/*.c))
UNIT_SRC  := $(sort $(wildcard host_test/unit/*.c))

# edqcow2 compresses clusters with the field's own libraries, in threads
TOOL_LIBS := -lz -lzstd -pthread

obj = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

CORE_OBJ  := $(call obj,host,$(CORE_SRC))
HOST_OBJ  := $(call obj,host,$(HOST_SRC))
TDEV_OBJ  := $(call obj,host,$(TDEV_SRC))
TOOL_OBJ  := $(call obj,host,$(TOOL_SRC))
UNIT_OBJ  := $(call obj,host,$(UNIT_SRC))

.PHONY: all test deps freestanding sanitize windows fuzz bench kernel demo crash clean
all: $(BUILD)/libhdi.a $(BUILD)/edqcow2

$(BUILD)/host/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
$(BUILD)/host/host_test/%.o: host_test/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ihost_test $(CFLAGS) -c $< -o $@

$(BUILD)/libhdi.a: $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libhdihost.a: $(HOST_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libhditest.a: $(TDEV_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/edqcow2: $(TOOL_OBJ) $(BUILD)/libhdihost.a $(BUILD)/libhdi.a
	$(CC) $(CFLAGS) -o $@ $^ $(TOOL_LIBS)

$(BUILD)/unit_tests: $(UNIT_OBJ) $(BUILD)/libhditest.a $(BUILD)/libhdihost.a $(BUILD)/libhdi.a
	$(CC) $(CFLAGS) -o $@ $^ -lz -lzstd

# Host test programs: host_test/prog_NAME.c -> $(BUILD)/prog_NAME
PROG_SRC  := $(sort $(wildcard host_test/prog_*.c))
PROGS     := $(patsubst host_test/%.c,$(BUILD)/%,$(PROG_SRC))
$(BUILD)/prog_%: $(BUILD)/host/host_test/prog_%.o $(BUILD)/libhditest.a $(BUILD)/libhdihost.a $(BUILD)/libhdi.a
	$(CC) $(CFLAGS) -o $@ $^

# --- freestanding: core/ alone, cross-compiled, 32-bit -----------------------
FS_CC     := $(CROSS_COMPILE)gcc
FS_AR     := $(CROSS_COMPILE)ar
FS_NM     := $(CROSS_COMPILE)nm
FS_CFLAGS := $(CSTD) $(WARN) -Werror -Os -ffreestanding -nostdlib -fno-pic \
             -fno-stack-protector -fno-builtin -m32 -MMD -MP -Iinclude
FS_OBJ    := $(call obj,freestanding,$(CORE_SRC))
FS_ALLOWED_UNDEF := memcpy memmove memset memcmp

$(BUILD)/freestanding/%.o: %.c
	@mkdir -p $(dir $@)
	$(FS_CC) $(FS_CFLAGS) -c $< -o $@

$(BUILD)/freestanding/libhdi.a: $(FS_OBJ)
	@rm -f $@
	$(FS_AR) rcs $@ $^

FS_LD     := $(CROSS_COMPILE)ld
# Link every member into one object first, so calls between core files
# resolve and only symbols from outside core/ remain undefined.
freestanding: $(BUILD)/freestanding/libhdi.a
	@$(FS_LD) -m elf_i386 -r --whole-archive $< -o $(BUILD)/freestanding/hdi-all.o
	@bad=$$($(FS_NM) -u $(BUILD)/freestanding/hdi-all.o | awk '$$1=="U"{print $$2}' | sort -u | \
		grep -vxE '$(subst $() ,|,$(FS_ALLOWED_UNDEF))' || true); \
	if [ -n "$$bad" ]; then echo "freestanding: undefined symbols: $$bad"; exit 1; fi; \
	echo "freestanding: $< links with only $(FS_ALLOWED_UNDEF) undefined"

# --- sanitizers ----------------------------------------------------------------
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_OBJ   := $(call obj,sanitize,$(CORE_SRC) $(HOST_SRC) $(TOOL_SRC))
$(BUILD)/sanitize/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN_FLAGS) -c $< -o $@
$(BUILD)/sanitize/edqcow2: $(SAN_OBJ)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(TOOL_LIBS)
sanitize: $(BUILD)/sanitize/edqcow2

# --- Windows: edqcow2.exe with MinGW-w64 (the seed's user runs Windows) ------
# zlib (libz-mingw-w64-dev) and winpthreads linked in statically; Debian has
# no libzstd for MinGW, so that build refuses zstd compression.
MINGW     ?= x86_64-w64-mingw32-
WIN_OBJ   := $(call obj,windows,$(CORE_SRC) $(HOST_SRC) $(TOOL_SRC))
$(BUILD)/windows/%.o: %.c
	@mkdir -p $(dir $@)
	$(MINGW)gcc $(CPPFLAGS) $(CSTD) $(WARN) -Werror -O2 -MMD -MP -D__USE_MINGW_ANSI_STDIO=1 -c $< -o $@
$(BUILD)/windows/edqcow2.exe: $(WIN_OBJ)
	$(MINGW)gcc -static -o $@ $^ -lz -lpthread
windows: $(BUILD)/windows/edqcow2.exe

# --- sub-makefiles owned by their directories ----------------------------------
-include host_test/fuzz/fuzz.mk
-include bench/bench.mk
-include kernel_shim/kernel.mk

# --- the test suite --------------------------------------------------------------
# `make test` and `make demo` are the README's whole set-up: deps installs
# the Debian packages that are missing (and nothing when all are there).
deps:
	@bash tools/deps.sh

test: deps
	@$(MAKE) --no-print-directory all $(BUILD)/unit_tests $(PROGS) sanitize freestanding
	@BUILD=$(BUILD) sh host_test/run.sh $(T)

# The power-loss and fault campaign at every k (make test samples 40 cut
# points per workload and mode to stay within its time budget).
crash: all $(PROGS)
	@CRASH_CUTS=1000000000 BUILD=$(BUILD) sh host_test/run.sh 60_crash

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
