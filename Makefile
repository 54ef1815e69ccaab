# hdi: freestanding disk-image library and the edqcow2 host tool. GNU Make.
# Sources are found by wildcard, so adding a file needs no edit here.
#
# The usual variables work as in any C project: CC, CFLAGS, CPPFLAGS,
# LDFLAGS, LDLIBS are added to the project's own flags, never replace them;
# V=1 shows every command; BUILD=DIR (relative or absolute) is the output
# directory; `make install PREFIX=... DESTDIR=...` installs. CROSS_COMPILE
# picks the freestanding toolchain (see linker/freestanding.mk and
# docs/porting.md).
CC            ?= cc
CLANG         ?= clang
PKG_CONFIG    ?= pkg-config
# Whether the user named a toolchain (then `make install` installs the
# freestanding library too and `make windows` uses that toolchain).
CROSS_GIVEN   := $(filter command line environment,$(origin CROSS_COMPILE))
CROSS_COMPILE ?= i686-linux-gnu-
BUILD         ?= build
EXE           ?=

# User flags (appended after the project's, so they win where they clash).
CFLAGS        ?= -O2 -g
CPPFLAGS      ?=
LDFLAGS       ?=
LDLIBS        ?=

WARN      := -pedantic -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CSTD      := -std=c99
# HDI_XFLAGS: extra flags the sub-makes for other systems pass (-Werror...).
HDI_XFLAGS ?=
HDI_CPPFLAGS := -Iinclude -Ihost
HDI_CFLAGS   := $(CSTD) $(WARN) $(HDI_XFLAGS)
# Each .d file names its object both ways BUILD may be spelled (relative
# on the command line, absolute from the test scripts), so a header change
# rebuilds the object whichever spelling built it first.
DEPFLAGS      = -MMD -MP -MT '$(abspath $@)' -MT '$(patsubst $(CURDIR)/%,%,$(abspath $@))'
HOST_COMPILE  = $(CC) $(HDI_CPPFLAGS) $(CPPFLAGS) $(HDI_CFLAGS) $(DEPFLAGS) $(CFLAGS)
HOST_LINK     = $(CC) $(HDI_CFLAGS) $(CFLAGS) $(LDFLAGS)
# edqcow2 compresses clusters with the field's own libraries, in threads;
# the tests use zlib and libzstd as ground truth. The library needs none.
TOOL_LIBS    ?= $(shell $(PKG_CONFIG) --libs zlib libzstd 2>/dev/null || echo -lz -lzstd) -pthread
TEST_LIBS    ?= $(shell $(PKG_CONFIG) --libs zlib libzstd 2>/dev/null || echo -lz -lzstd)
ZLIB_LIBS    ?= $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)

# V=1: full commands; otherwise one short line per step.
ifeq ($(V),1)
Q   :=
say  =
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
Q   := @
say  =
else
Q   := @
say  = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

CORE_SRC  := $(sort $(wildcard core/*.c))
# host/: product code for hosts (the file device); host_test/: tests and
# test devices, never linked into edqcow2 or bench.
HOST_SRC  := $(sort $(wildcard host/*.c))
TDEV_SRC  := host_test/dev_ram.c
TOOL_SRC  := $(sort $(wildcard tools/*.c))
UNIT_SRC  := $(sort $(wildcard host_test/unit/*.c))

obj = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

CORE_OBJ  := $(call obj,host,$(CORE_SRC))
HOST_OBJ  := $(call obj,host,$(HOST_SRC))
TDEV_OBJ  := $(call obj,host,$(TDEV_SRC))
TOOL_OBJ  := $(call obj,host,$(TOOL_SRC))
UNIT_OBJ  := $(call obj,host,$(UNIT_SRC))

# Only the public headers' declarations are exported (they push default
# visibility); every other non-static core function is hidden.
$(CORE_OBJ): HDI_CFLAGS += -fvisibility=hidden

.PHONY: all test deps freestanding sanitize windows s390x fuzz bench kernel \
        demo crash clean install install-host install-freestanding matrix
all: $(BUILD)/libhdi.a $(BUILD)/edqcow2$(EXE)

$(BUILD)/host/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(HOST_COMPILE) -c $< -o $@
$(BUILD)/host/host_test/%.o: host_test/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(HOST_COMPILE) -Ihost_test -c $< -o $@

$(BUILD)/libhdi.a: $(CORE_OBJ)
$(BUILD)/libhdihost.a: $(HOST_OBJ)
$(BUILD)/libhditest.a: $(TDEV_OBJ)
$(BUILD)/libhdi.a $(BUILD)/libhdihost.a $(BUILD)/libhditest.a:
	@rm -f $@
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/edqcow2$(EXE): $(TOOL_OBJ) $(BUILD)/libhdihost.a $(BUILD)/libhdi.a
	$(call say,LD,$@)
	$(Q)$(HOST_LINK) -o $@ $^ $(TOOL_LIBS) $(LDLIBS)

$(BUILD)/unit_tests$(EXE): $(UNIT_OBJ) $(BUILD)/libhditest.a $(BUILD)/libhdihost.a $(BUILD)/libhdi.a
	$(call say,LD,$@)
	$(Q)$(HOST_LINK) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

# Host test programs: host_test/prog_NAME.c -> $(BUILD)/prog_NAME
PROG_SRC  := $(sort $(wildcard host_test/prog_*.c))
PROGS     := $(patsubst host_test/%.c,$(BUILD)/%,$(PROG_SRC))
$(BUILD)/prog_%: $(BUILD)/host/host_test/prog_%.o $(BUILD)/libhditest.a $(BUILD)/libhdihost.a $(BUILD)/libhdi.a
	$(call say,LD,$@)
	$(Q)$(HOST_LINK) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

# --- freestanding: core/ alone, cross-compiled (flags: linker/freestanding.mk)
include linker/freestanding.mk

# --- sanitizers ----------------------------------------------------------------
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_OBJ   := $(call obj,sanitize,$(CORE_SRC) $(HOST_SRC) $(TOOL_SRC))
$(BUILD)/sanitize/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(HOST_COMPILE) -O1 $(SAN_FLAGS) -c $< -o $@
$(BUILD)/sanitize/edqcow2: $(SAN_OBJ)
	$(call say,LD,$@)
	$(Q)$(HOST_LINK) $(SAN_FLAGS) -o $@ $^ $(TOOL_LIBS) $(LDLIBS)
sanitize: $(BUILD)/sanitize/edqcow2

# --- the host build for other systems: the same rules in a sub-make ------------
# Windows: edqcow2.exe with MinGW-w64 (the seed's user runs Windows);
# CROSS_COMPILE=x86_64-w64-mingw32- unless the command line names another.
# zlib (libz-mingw-w64-dev) and winpthreads linked in statically; Debian has
# no libzstd for MinGW, so that build refuses zstd compression.
WIN_CROSS := $(if $(CROSS_GIVEN),$(CROSS_COMPILE),x86_64-w64-mingw32-)
windows:
	$(Q)$(MAKE) --no-print-directory CC=$(WIN_CROSS)gcc AR=$(WIN_CROSS)ar \
		CROSS_COMPILE=$(WIN_CROSS) BUILD=$(BUILD)/windows EXE=.exe \
		LDFLAGS="-static $(LDFLAGS)" TOOL_LIBS="-lz -lpthread" \
		HDI_XFLAGS="-Werror -D__USE_MINGW_ANSI_STDIO=1" $(BUILD)/windows/edqcow2.exe

# Big-endian Linux: edqcow2 and the unit tests for s390x, linked statically
# so qemu-user runs them without a sysroot.
BE_CROSS  := $(if $(CROSS_GIVEN),$(CROSS_COMPILE),s390x-linux-gnu-)
s390x:
	$(Q)$(MAKE) --no-print-directory CC=$(BE_CROSS)gcc AR=$(BE_CROSS)ar \
		CROSS_COMPILE=$(BE_CROSS) BUILD=$(BUILD)/s390x LDFLAGS="-static $(LDFLAGS)" \
		TOOL_LIBS="-lz -lzstd -pthread" TEST_LIBS="-lz -lzstd" HDI_XFLAGS=-Werror \
		$(BUILD)/s390x/edqcow2 $(BUILD)/s390x/unit_tests

# --- install -----------------------------------------------------------------
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL      ?= install
HDI_VERSION  := $(shell sed -n 's/^\#define HDI_VERSION_\(MAJOR\|MINOR\|PATCH\) *\([0-9]*\).*/\2/p' \
                  include/hdi/hdi.h | paste -sd.)

# hdi.pc for the host library; hdi-NAME.pc for a freestanding one.
define hdi_pc
prefix=$(PREFIX)
libdir=$(1)
includedir=$(INCLUDEDIR)

Name: hdi$(2)
Description: freestanding disk-image library: qcow2, MBR, GPT on any block device$(3)
Version: $(HDI_VERSION)
Cflags: -I$${includedir}
Libs: -L$${libdir} -lhdi
endef

install-headers:
	$(Q)$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR)/hdi
	$(Q)$(INSTALL) -m 644 include/hdi/*.h $(DESTDIR)$(INCLUDEDIR)/hdi/

install-host: all install-headers
	$(Q)$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(Q)$(INSTALL) -m 755 $(BUILD)/edqcow2$(EXE) $(DESTDIR)$(BINDIR)/
	$(Q)$(INSTALL) -m 644 $(BUILD)/libhdi.a $(DESTDIR)$(LIBDIR)/
	$(file >$(BUILD)/hdi.pc,$(call hdi_pc,$(LIBDIR),,))
	$(Q)$(INSTALL) -m 644 $(BUILD)/hdi.pc $(DESTDIR)$(PKGCONFIGDIR)/
	@echo "install: edqcow2, libhdi.a, hdi.pc, headers under $(DESTDIR)$(PREFIX)"

# The freestanding library goes to LIBDIR/FS_NAME/ (lib/arm-none-eabi/...),
# so host and kernel libraries of one prefix never collide.
install-freestanding: freestanding install-headers
	$(Q)$(INSTALL) -d $(DESTDIR)$(LIBDIR)/$(FS_NAME) $(DESTDIR)$(PKGCONFIGDIR)
	$(Q)$(INSTALL) -m 644 $(FS_DIR)/libhdi.a $(DESTDIR)$(LIBDIR)/$(FS_NAME)/
	$(file >$(FS_DIR)/hdi-$(FS_NAME).pc,$(call hdi_pc,$(LIBDIR)/$(FS_NAME),-$(FS_NAME), (freestanding, $(FS_NAME))))
	$(Q)$(INSTALL) -m 644 $(FS_DIR)/hdi-$(FS_NAME).pc $(DESTDIR)$(PKGCONFIGDIR)/
	@echo "install: freestanding $(FS_NAME) libhdi.a under $(DESTDIR)$(LIBDIR)/$(FS_NAME)"

install: install-host $(if $(CROSS_GIVEN),install-freestanding)

# --- sub-makefiles owned by their directories ----------------------------------
-include host_test/fuzz/fuzz.mk
-include bench/bench.mk
-include kernel_shim/kernel.mk
-include tools/size.mk

# --- the test suite --------------------------------------------------------------
# `make test` and `make demo` are the README's whole set-up: deps installs
# the Debian packages that are missing (and nothing when all are there).
deps:
	@bash tools/deps.sh

test: deps
	@$(MAKE) --no-print-directory all $(BUILD)/unit_tests $(PROGS) sanitize freestanding
	@BUILD=$(BUILD) sh host_test/run.sh $(T)

# The portability matrix beyond make test (which runs the big-endian and
# the Windows builds): every freestanding target, gcc and clang -pedantic.
matrix: deps
	@BUILD=$(BUILD) TESTDIR=host_test/matrix sh host_test/run.sh $(T); st=$$?; \
	if [ -s $(BUILD)/matrix-size.txt ]; then \
		echo "freestanding .text (-Os), and the helpers the kernel supplies:"; \
		cat $(BUILD)/matrix-size.txt; fi; exit $$st

# The power-loss and fault campaign at every k (make test samples 40 cut
# points per workload and mode to stay within its time budget).
crash: all $(PROGS)
	@CRASH_CUTS=1000000000 BUILD=$(BUILD) sh host_test/run.sh 60_crash

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
