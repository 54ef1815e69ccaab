#!/bin/sh
# host_test/run.sh: runs the unit tests and every host_test/interop/*.sh,
# counts "ok"/"not ok" lines, and ends with "N passed, N failed".
# Usage: run.sh [FILTER]  (only scripts whose name contains FILTER)
# TESTDIR=host_test/matrix runs that directory's scripts instead (make matrix).
cd "$(dirname "$0")/.." || exit 1
filter=${1:-}
B=${BUILD:-build}
log=$B/test-log.txt
mkdir -p "$B"
: > "$log"
# A script or binary that dies (non-zero exit) without reporting a failure
# still counts as one, so a crash can never pass silently.
run_one() {
	name=$1; shift
	start=$(date +%s)
	out=$B/test-one.txt
	"$@" > "$out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$out"; then
		echo "not ok $name: exited with status $rc" >> "$out"
	fi
	cat "$out" >> "$log"
	grep -E '^(ok|not ok|skip) ' "$out" || true
	echo "# $name: $(( $(date +%s) - start ))s" >> "$log"
}
dir=${TESTDIR:-host_test/interop}
if [ "$dir" = host_test/interop ] && { [ -z "$filter" ] || [ "$filter" = unit ]; }; then
	case $B in /*) ;; *) B=./$B ;; esac
	run_one unit "$B/unit_tests"
fi
for s in "$dir"/*.sh; do
	[ -e "$s" ] || continue
	case "$s" in *"$filter"*) ;; *) continue ;; esac
	run_one "$s" sh "$s"
done
pass=$(grep -c '^ok ' "$log")
fail=$(grep -c '^not ok ' "$log")
skip=$(grep -c '^skip ' "$log")
grep '^# .*: [0-9]*s$' "$log" | sed 's/^# /time: /'
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
