#!/bin/sh
# host_test/interop/25_qcow2_write_convert.sh: `convert OUT -O qcow2`: the
# output passes qemu-img check, equals the source under qemu-img compare,
# leaves zero clusters unallocated, lays data out in guest order, is no
# larger than qemu-img convert's, shows -p progress, and never appears
# half-made (written under a temporary name, renamed at the end).
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io python3 || exit 0

M=1048576
# raw source: data, zero runs, a zero cluster inside data, a sparse tail
python3 - "$T/src.raw" <<'EOF'
import random, sys
random.seed(7)
with open(sys.argv[1], "wb") as f:
    f.write(random.randbytes(3 << 20))
    f.write(bytes(1 << 20))                 # zeros written out
    f.write(random.randbytes(100000))
    f.seek((6 << 20) + 65536)
    f.write(random.randbytes(65536 * 2 + 17))
    f.truncate(40 << 20)                   # sparse tail
EOF

# conv NAME SRC [create options]: convert, then judge
conv() {
	n=$1 src=$2; shift 2
	rm -f "$T/$n.qcow2"
	if ! out=$("$ED" "$src" convert "$T/$n.qcow2" -O qcow2 "$@" 2>&1); then
		notok "$n-convert" "$out"; return 1
	fi
	qcheck "$n-check" "$T/$n.qcow2"
	check "$n-compare" qemu-img compare "$src" "$T/$n.qcow2"
}

# allocated bytes and their order, from qemu-img map
mapinfo() {
	qemu-img map --output=json "$1" | python3 -c '
import json, sys
m = json.load(sys.stdin)
data = [e for e in m if e["data"]]
alloc = sum(e["length"] for e in data)
offs = [e["offset"] for e in data]
print(alloc, "sequential" if offs == sorted(offs) else "unordered")'
}

conv raw "$T/src.raw" && {
	expect_eq raw-allocated "$(mapinfo "$T/raw.qcow2")" "$((3*M + 65536*2 + 65536*3)) sequential"
	qemu-img convert -O qcow2 "$T/src.raw" "$T/raw-q.qcow2"
	e=$(stat -c %s "$T/raw.qcow2") q=$(stat -c %s "$T/raw-q.qcow2")
	if [ "$e" -le "$q" ]; then ok raw-size-not-larger; else notok raw-size-not-larger "ours $e, qemu-img $q"; fi
}
for o in "--compat 0.10" "--cluster-size 512" "--cluster-size 2M" "--refcount-bits 1" \
	 "--refcount-bits 64 --cluster-size 4K" "--extended-l2" "--lazy-refcounts"; do
	# shellcheck disable=SC2086
	conv "raw$(echo "$o" | tr -d ' -')" "$T/src.raw" $o
done
# the options reach the image
"$ED" "$T/src.raw" convert "$T/opt.qcow2" -O qcow2 --cluster-size 4K --refcount-bits 8 --compat 1.1 >/dev/null 2>&1
got=$(qemu-img info --output=json "$T/opt.qcow2" | python3 -c '
import json,sys;j=json.load(sys.stdin);print(j["cluster-size"],j["format-specific"]["data"]["refcount-bits"])')
expect_eq options-applied "$got" "4096 8"

# qcow2 sources: compressed, snapshots (the active disk), a backing chain
qemu-img convert -c -O qcow2 "$T/src.raw" "$T/compsrc.qcow2"
conv comp "$T/compsrc.qcow2"
qemu-img create -q -f qcow2 "$T/b0.qcow2" 40M
qemu-io -f qcow2 -c 'write -P 0x11 0 5M' -c 'write -P 0x12 30M 1M' "$T/b0.qcow2" >/dev/null
qemu-img create -q -f qcow2 -b b0.qcow2 -F qcow2 "$T/b1.qcow2" 40M
qemu-io -f qcow2 -c 'write -P 0x21 1M 2M' -c 'write -z 30M 512k' "$T/b1.qcow2" >/dev/null
qemu-img snapshot -c s1 "$T/b1.qcow2"
qemu-io -f qcow2 -c 'write -P 0x22 10M 1M' "$T/b1.qcow2" >/dev/null
conv chain "$T/b1.qcow2" && {
	b=$(qemu-img info --output=json "$T/chain.qcow2" | python3 -c 'import json,sys;print(json.load(sys.stdin).get("backing-filename","none"))')
	expect_eq chain-standalone "$b" none
}
# a snapshot's disk
rm -f "$T/snap.qcow2"
"$ED" "$T/b1.qcow2" convert "$T/snap.qcow2" -O qcow2 --snapshot s1 >/dev/null 2>&1
qemu-img convert -l snapshot.name=s1 -O raw "$T/b1.qcow2" "$T/s1.raw"
check snapshot-compare qemu-img compare "$T/s1.raw" "$T/snap.qcow2"

# -p: qemu-img's progress lines, ending at 100%
p=$("$ED" "$T/src.raw" convert "$T/p.qcow2" -O qcow2 -p 2>&1 | tr '\r' '\n' | tail -n 1)
expect_eq progress-ends-at-100 "$p" "    (100.00/100%)"

# no half-made output: a source that fails to read half way leaves no OUT
# and no temporary file behind, and an existing OUT is kept
qemu-img create -q -f qcow2 -o cluster_size=65536 "$T/bad.qcow2" 8M
qemu-io -f qcow2 -c 'write -P 0x31 0 8M' "$T/bad.qcow2" >/dev/null
# an unaligned data cluster offset half way: a read error there
python3 - "$T/bad.qcow2" <<'EOF'
import struct, sys
f = open(sys.argv[1], "r+b")
h = f.read(48)
l1 = struct.unpack(">Q", h[40:48])[0]
f.seek(l1); l2 = struct.unpack(">Q", f.read(8))[0] & 0x00fffffffffffe00
f.seek(l2 + 8 * 100); f.write(struct.pack(">Q", (1 << 63) | 0x10200))
EOF
echo keep > "$T/keep.qcow2"
if "$ED" "$T/bad.qcow2" convert "$T/half.qcow2" -O qcow2 >/dev/null 2>&1; then
	notok failed-convert-fails "convert of a broken source succeeded"
else
	ok failed-convert-fails
fi
expect_eq failed-convert-no-output "$(ls "$T" | grep -c '^half\.qcow2')" 0
"$ED" "$T/bad.qcow2" convert "$T/keep.qcow2" -O qcow2 >/dev/null 2>&1
expect_eq failed-convert-keeps-old "$(cat "$T/keep.qcow2")" keep
expect_eq failed-convert-no-temp "$(ls "$T" | grep -c 'tmp-')" 0

# interrupted by a signal: OUT is either absent (and no temporary file is
# left for SIGINT/SIGTERM) or complete
python3 -c "import os,sys;sys.stdout.buffer.write(os.urandom(160 << 20))" > "$T/big.raw"
for sig in INT TERM KILL; do
	rm -f "$T/int.qcow2"
	"$ED" "$T/big.raw" convert "$T/int.qcow2" -O qcow2 >/dev/null 2>&1 &
	pid=$!
	sleep 0.1
	kill -"$sig" "$pid" 2>/dev/null
	wait "$pid"
	if [ ! -e "$T/int.qcow2" ]; then
		if [ "$sig" = KILL ] || [ "$(ls "$T" | grep -c 'int\.qcow2\.tmp-')" = 0 ]; then
			ok "interrupt-$sig-no-output"
		else
			notok "interrupt-$sig-no-output" "temporary file left behind"
		fi
	elif qemu-img compare -q "$T/big.raw" "$T/int.qcow2" 2>/dev/null; then
		ok "interrupt-$sig-no-output (finished before the signal)"
	else
		notok "interrupt-$sig-no-output" "a half-made output exists"
	fi
	rm -f "$T"/int.qcow2.tmp-*
done
