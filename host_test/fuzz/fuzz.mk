# host_test/fuzz/fuzz.mk: `make fuzz`: libFuzzer targets (clang, ASan+UBSan)
# over core/ + the RAM device, each run for FUZZ_SECONDS on a seed corpus
# that make_corpus.sh generates with qemu-img, zlib, zstd and sfdisk.
# Included by the top Makefile. Knobs:
#   FUZZ_SECONDS=60            time per target
#   FUZZ_TARGETS="inflate zstd zstd_diff qcow2 check mbr gpt"
#   FUZZ_ARGS=                 extra libFuzzer flags (e.g. -jobs=2)
# Findings land in $(BUILD)/fuzz/crash-TARGET-*; reproduce one with
#   $(BUILD)/fuzz/fuzz_TARGET $(BUILD)/fuzz/crash-TARGET-...
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= inflate zstd zstd_diff qcow2 check mbr gpt
FUZZ_ARGS    ?=
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := $(CSTD) $(WARN) -g -O1 $(FUZZ_SAN)
FUZZ_LIB_OBJ := $(call obj,fuzz/obj,$(CORE_SRC) host_test/dev_ram.c)

# corpus directory each target starts from, and its input size cap
fuzz_seeds_inflate := inflate
fuzz_seeds_qcow2   := qcow2
fuzz_seeds_check   := qcow2
fuzz_seeds_mbr     := mbr
fuzz_seeds_gpt     := gpt
fuzz_seeds_zstd    := zstd
fuzz_seeds_zstd_diff := zstd_diff
fuzz_maxlen_inflate := 65536
fuzz_maxlen_qcow2   := 262144
fuzz_maxlen_check   := 262144
fuzz_maxlen_mbr     := 131072
fuzz_maxlen_gpt     := 131072
fuzz_maxlen_zstd    := 65536
fuzz_maxlen_zstd_diff := 65536

.PHONY: fuzz-build fuzz-corpus

# HDI_ZSTD_TEST_HOOKS: the zstd decoder flags what fuzz_zstd_diff excuses
$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(HDI_CPPFLAGS) $(CPPFLAGS) -Ihost_test $(FUZZ_CFLAGS) $(DEPFLAGS) -DHDI_ZSTD_TEST_HOOKS -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libhdifuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_%: host_test/fuzz/fuzz_%.c host_test/fuzz/fuzz_common.h $(FUZZ_DIR)/libhdifuzz.a
	@mkdir -p $(dir $@)
	$(CLANG) $(HDI_CPPFLAGS) $(CPPFLAGS) -Ihost_test $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_DIR)/libhdifuzz.a $(TEST_LIBS)

$(FUZZ_DIR)/seeds/.stamp: host_test/fuzz/make_corpus.sh
	sh host_test/fuzz/make_corpus.sh $(FUZZ_DIR)/seeds
	@touch $@

fuzz-corpus: $(FUZZ_DIR)/seeds/.stamp
fuzz-build: $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))

# Each target runs for a bounded time; any finding stops make with an error.
# New interesting inputs collect in $(FUZZ_DIR)/corpus-TARGET across runs.
fuzz: fuzz-build fuzz-corpus
	@set -e; for t in $(FUZZ_TARGETS); do \
		case $$t in \
		inflate) seeds=$(fuzz_seeds_inflate); max=$(fuzz_maxlen_inflate) ;; \
		qcow2) seeds=$(fuzz_seeds_qcow2); max=$(fuzz_maxlen_qcow2) ;; \
		check) seeds=$(fuzz_seeds_check); max=$(fuzz_maxlen_check) ;; \
		mbr) seeds=$(fuzz_seeds_mbr); max=$(fuzz_maxlen_mbr) ;; \
		gpt) seeds=$(fuzz_seeds_gpt); max=$(fuzz_maxlen_gpt) ;; \
		zstd) seeds=$(fuzz_seeds_zstd); max=$(fuzz_maxlen_zstd) ;; \
		zstd_diff) seeds=$(fuzz_seeds_zstd_diff); max=$(fuzz_maxlen_zstd_diff) ;; \
		*) seeds=$$t; max=65536 ;; \
		esac; \
		mkdir -p $(FUZZ_DIR)/corpus-$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		if ! $(FUZZ_DIR)/fuzz_$$t $(FUZZ_DIR)/corpus-$$t $(FUZZ_DIR)/seeds/$$seeds \
			-max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=4096 \
			-max_len=$$max -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/crash-$$t- $(FUZZ_ARGS) \
			> $(FUZZ_DIR)/log-$$t.txt 2>&1; then \
			tail -n 40 $(FUZZ_DIR)/log-$$t.txt; \
			echo "fuzz: $$t FOUND A PROBLEM (log: $(FUZZ_DIR)/log-$$t.txt)"; exit 1; \
		fi; \
		grep -E '^stat::number_of_executed_units|^Done' $(FUZZ_DIR)/log-$$t.txt | tr '\n' ' '; echo; \
	done; echo "fuzz: $(FUZZ_TARGETS): no findings"
