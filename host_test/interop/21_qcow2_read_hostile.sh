#!/bin/sh
# host_test/interop/21_qcow2_read_hostile.sh: hostile images for the read
# commands, under the sanitizer build: pokes in the style of QEMU iotests
# 080/060 and seeded random bit flips in the metadata of qemu-made images.
# Every command must end by itself (no signal, no timeout), print no
# sanitizer report, and leave the image unchanged.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io python3 md5sum timeout || exit 0
if [ ! -x "$ED_SAN" ]; then notok hostile-tool "no $ED_SAN"; exit 0; fi
cd "$T" || exit 1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

# survive NAME IMAGE: every read command on IMAGE behaves.
survive() {
	n=$1 img=$2 bad=""
	before=$(md5sum < "$img")
	for c in "info --json" "map --json" "snapshot list" \
		 "convert out.raw -O raw" "read 1M 4k --snapshot s1"; do
		# shellcheck disable=SC2086
		timeout 30 "$ED_SAN" "$img" $c >/dev/null 2>err
		rc=$?
		if [ $rc -ge 124 ] || grep -q -e Sanitizer -e "runtime error" err; then
			bad="$bad [$c: rc=$rc $(grep -m1 -e ERROR -e 'runtime error' err | head -c 160)]"
		fi
	done
	rm -f out.raw
	[ "$(md5sum < "$img")" = "$before" ] || bad="$bad [image modified]"
	if [ -z "$bad" ]; then ok "hostile-$n"; else notok "hostile-$n" "$bad"; fi
}

# poke IMAGE OFFSET HEXBYTES: overwrite bytes (big-endian values as hex).
poke() {
	python3 -c '
import sys
p, off, hx = sys.argv[1], int(sys.argv[2], 0), sys.argv[3]
with open(p, "r+b") as f:
    f.seek(off); f.write(bytes.fromhex(hx))' "$@"
}
# field IMAGE OFFSET SIZE: a big-endian field's value, host-offset bits
# only (so shell arithmetic never sees bit 63).
field() {
	python3 -c '
import sys
with open(sys.argv[1], "rb") as f:
    f.seek(int(sys.argv[2]))
    print(int.from_bytes(f.read(int(sys.argv[3])), "big") & 0x00fffffffffffe00)' "$@"
}

# base images: plain with snapshot, compressed + extended L2, and a chain
qemu-img create -q -f qcow2 -o cluster_size=4k plain.qcow2 4M
qemu-io -f qcow2 -c "write -P 1 0 1M" -c "write -z 1M 64k" plain.qcow2 >/dev/null
qemu-img snapshot -c s1 plain.qcow2
qemu-io -f qcow2 -c "write -P 2 512k 1M" plain.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=16k,extended_l2=on el2.qcow2 4M
qemu-io -f qcow2 -c "write -c -P 3 0 64k" -c "write -P 4 1M 7k" -c "write -z 2M 2k" el2.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b plain.qcow2 -F qcow2 top.qcow2 4M
qemu-io -f qcow2 -c "write -P 5 100k 10k" top.qcow2 >/dev/null

l1=$(field plain.qcow2 40 8)
rt=$(field plain.qcow2 48 8)
sn=$(field plain.qcow2 64 8)
l2=$(field plain.qcow2 "$l1" 8)

# iotests 080-style field pokes
i=0
for p in "4 00000004" "20 00000008" "20 00000016" "100 00000068" "100 00010000" \
	 "96 00000007" "36 00000000" "36 ffffffff" "40 0000000000000200" \
	 "40 00ffffffffff0000" "48 0000000000000000" "56 00000000" "56 ffffffff" \
	 "60 ffffffff" "64 0000000000000003" "8 0000000000000fff" "16 000003ff" \
	 "24 7fffffffffffffff" "72 0000000000000080" "72 0000000000000004" \
	 "32 00000001" "32 00000002" "104 07" "88 0000000000000001" \
	 "$l1 8000000000000001" "$l1 8000000000000200" "$l1 80000000ffff0000" \
	 "$l1 $(printf '%016x' $(( (1 << 63) | rt )))" \
	 "$l2 8000000000000000" "$l2 0000000000000201" "$l2 $(printf '%016x' $(( (1 << 63) | l1 )))" \
	 "$l2 4000000000000000" "$l2 7fffffffffffffff" "$rt 0000000000000200" \
	 "$sn ffffffffffffffff" "$(( sn + 8 )) ffffffff" "$(( sn + 36 )) 0000ffff" \
	 "$(( sn + 12 )) ffff"; do
	cp plain.qcow2 p.qcow2
	# shellcheck disable=SC2086
	poke p.qcow2 $p
	i=$((i + 1))
	survive "poke$i" p.qcow2
done

# seeded random flips in the metadata clusters of each image
for base in plain el2 top; do
	for seed in 1 2 3 4 5; do
		cp $base.qcow2 f.qcow2
		python3 -c '
import os, random, sys
p, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
size = os.path.getsize(p)
meta = min(size, 16 * 4096)      # header, tables and early L2s live here
with open(p, "r+b") as f:
    for _ in range(r.randint(1, 8)):
        at = r.randrange(meta)
        f.seek(at); b = f.read(1)
        f.seek(at); f.write(bytes([b[0] ^ (1 << r.randrange(8))]))' f.qcow2 $seed
		# the chain image keeps its backing name working from here
		survive "flip-$base-$seed" f.qcow2
	done
done
exit 0
