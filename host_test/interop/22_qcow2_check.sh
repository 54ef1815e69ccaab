#!/bin/sh
# host_test/interop/22_qcow2_check.sh: edqcow2 check and check --repair
# against qemu-img check on qemu-made images, clean and damaged (leaks,
# corruptions, COPIED flags, broken refcount tables and blocks) across
# cluster sizes, refcount widths 1..64, v2, extended L2, snapshots,
# compressed clusters, bitmaps and dirty lazy-refcount images. The cases
# are in qcow2_check_cases.py; the damage in qcow2_check_poke.py.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io python3 || exit 0
[ -x "$ED" ] || { notok check.build "no $ED"; exit 0; }

python3 "$ROOT/host_test/interop/qcow2_check_cases.py" "$ED" "$T" "${CHECK_FILTER:-}"

# the command line: help, bad arguments, raw images, exit codes
check check.help "$ED" check --help
"$ED" "$T/none.qcow2" check --repair bogus >/dev/null 2>&1
expect_eq check.bad-repair-arg $? 1
head -c 1048576 /dev/zero > "$T/raw.img"
"$ED" "$T/raw.img" check >/dev/null 2>&1; rc=$?
qemu-img check -f raw "$T/raw.img" >/dev/null 2>&1; qrc=$?
expect_eq check.raw-exit "$rc" "$qrc"
qemu-img create -q -f qcow2 "$T/h.qcow2" 1M
expect_eq check.human "$("$ED" "$T/h.qcow2" check)" "$(qemu-img check "$T/h.qcow2")"
