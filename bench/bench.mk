# bench/bench.mk: `make bench`: import, export, random 4 KiB writes and
# reads side by side with qemu-img/qemu-io, allocation flatness, and a
# recipe build against the shell pipeline
# (bench/bench.py prints the ratios and PASS/MISS against the targets;
# docs/performance.md has the figures). A benchmark, not part of make test.
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

$(BUILD)/bench/%: bench/%.c $(BUILD)/libhdihost.a $(BUILD)/libhdi.a
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(HOST_COMPILE) $(LDFLAGS) -o $@ $(filter %.c %.a,$^) $(LDLIBS)

# the zstd decoder against libzstd, in process (docs/performance.md)
$(BUILD)/bench/bench_zstd: LDLIBS += $(TEST_LIBS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@BUILD=$(BUILD) python3 bench/bench.py
