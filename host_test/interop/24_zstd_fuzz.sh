#!/bin/sh
# host_test/interop/24_zstd_fuzz.sh: a bounded run of the zstd libFuzzer
# targets (host_test/fuzz/fuzz_zstd*.c; `make fuzz` runs them longer):
# the decoder alone under ASan/UBSan, and the differential one against
# libzstd driven as QEMU drives it, both from the corpus of frames the zstd
# tool makes. Knob: ZSTD_FUZZ_SECONDS (default 15 per target).
. "$(dirname "$0")/../lib.sh"
need clang zstd qemu-img || exit 0
SECS=${ZSTD_FUZZ_SECONDS:-15}
BD=${BUILD:-build}
FD=$B/fuzz
if ! out=$(cd "$ROOT" && make -s --no-print-directory BUILD="$BD" \
	"$BD/fuzz/fuzz_zstd" "$BD/fuzz/fuzz_zstd_diff" "$BD/fuzz/seeds/.stamp" 2>&1); then
	notok zstd-fuzz-build "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
	exit 0
fi
for t in zstd zstd_diff; do
	mkdir -p "$FD/corpus-$t"
	if "$FD/fuzz_$t" "$FD/corpus-$t" "$FD/seeds/$t" -max_total_time="$SECS" \
		-timeout=20 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$FD/crash-$t-" > "$FD/log-$t.txt" 2>&1; then
		ok "fuzz-$t ($(grep -m1 '^stat::number_of_executed_units' "$FD/log-$t.txt" |
			sed 's/.*: *//') runs in ${SECS}s)"
	else
		notok "fuzz-$t" "$(grep -m1 -E '^fuzz:|ERROR|SUMMARY' "$FD/log-$t.txt") (log $FD/log-$t.txt)"
	fi
done
