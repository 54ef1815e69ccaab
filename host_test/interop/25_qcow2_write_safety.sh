#!/bin/sh
# host_test/interop/25_qcow2_write_safety.sh: the write path's guards,
# judged by qemu-img: a write that would land on metadata is stopped and
# the image marked corrupt; a corrupt image is not written; unknown
# autoclear bits are cleared; and seeded metadata flips followed by
# writes, under the sanitizer build, end with a clean error or a clean
# image: no crash, no hang, no sanitizer report.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io python3 || exit 0
SAN=$ED_SAN
[ -x "$SAN" ] || SAN=$ED

# poke FILE OFFSET HEX: overwrite bytes
poke() { python3 -c "import sys;f=open(sys.argv[1],'r+b');f.seek(int(sys.argv[2],0));f.write(bytes.fromhex(sys.argv[3]))" "$@"; }
# be64 FILE OFFSET [MASK]: a big-endian 64-bit field (masked)
be64() { python3 -c "import sys,struct;f=open(sys.argv[1],'rb');f.seek(int(sys.argv[2],0));m=int(sys.argv[3],0) if len(sys.argv)>3 else (1<<64)-1;print(struct.unpack('>Q',f.read(8))[0]&m)" "$@"; }
corrupt_flag() {
	qemu-img info --output=json "$1" | python3 -c 'import json,sys;print(json.load(sys.stdin)["format-specific"]["data"].get("corrupt"))'
}

printf 'data' > "$T/four"
mkimg() {
	rm -f "$T/$1.qcow2"
	qemu-img create -q -f qcow2 -o cluster_size=65536 "$T/$1.qcow2" 4M
	qemu-io -f qcow2 -c 'write -P 0x61 0 128k' "$T/$1.qcow2" >/dev/null
}

# an L2 entry (with COPIED) aimed at the L1 table, the refcount table, a
# refcount block and the header: writing there must not happen
for what in l1 rt rb; do
	mkimg ol
	f=$T/ol.qcow2
	l1=$(be64 "$f" 40)
	rt=$(be64 "$f" 48)
	l2=$(be64 "$f" "$l1" 0x00fffffffffffe00)
	case $what in
	l1) tgt=$l1 ;; rt) tgt=$rt ;; rb) tgt=$(be64 "$f" "$rt") ;;
	esac
	poke "$f" $((l2 + 8)) "$(python3 -c "print('%016x' % ((1 << 63) | $tgt))")"
	cp "$f" "$T/before.qcow2"
	if "$SAN" "$f" write 65600 "$T/four" >"$T/out" 2>&1; then
		notok "overlap-$what-refused" "write succeeded"
	else
		ok "overlap-$what-refused"
	fi
	expect_eq "overlap-$what-corrupt-bit" "$(corrupt_flag "$f")" True
	# nothing but the corrupt bit changed
	python3 - "$T/before.qcow2" "$f" <<'EOF' && ok "overlap-$what-untouched" || notok "overlap-$what-untouched" "image changed beyond the corrupt bit"
import sys
a = bytearray(open(sys.argv[1], 'rb').read()); b = bytearray(open(sys.argv[2], 'rb').read())
b[79] &= ~2
sys.exit(0 if a == b else 1)
EOF
	grep -q "overwrite" "$T/out" && ok "overlap-$what-message" || notok "overlap-$what-message" "$(cat "$T/out")"
done

# the corrupt bit refuses every write, naming the reason
mkimg cb
poke "$T/cb.qcow2" 79 02
cp "$T/cb.qcow2" "$T/before.qcow2"
for c in "write 0 $T/four" "write-zeroes 0 512" "discard 0 65536" "resize 8M"; do
	# shellcheck disable=SC2086
	if "$SAN" "$T/cb.qcow2" $c >"$T/out" 2>&1; then notok "corrupt-refuses-${c%% *}" "accepted"
	else ok "corrupt-refuses-${c%% *}"; fi
done
check corrupt-unchanged cmp "$T/cb.qcow2" "$T/before.qcow2"
grep -q corrupt "$T/out" && ok corrupt-message || notok corrupt-message "$(cat "$T/out")"

# unknown autoclear bits are cleared before the first write
mkimg ac
poke "$T/ac.qcow2" 88 8000000000000000
"$SAN" "$T/ac.qcow2" write 100 "$T/four" >/dev/null 2>&1
expect_eq autoclear-cleared "$(be64 "$T/ac.qcow2" 88)" 0
qcheck autoclear-check "$T/ac.qcow2"

# hostile metadata, then writes: clean errors or clean images only
python3 - "$T" <<'EOF'
import random, struct, sys, os, shutil
t = sys.argv[1]
random.seed(4242)
base = os.path.join(t, "hb.qcow2")
os.system(f"qemu-img create -q -f qcow2 -o cluster_size=4096 {base} 2M")
os.system(f"qemu-io -f qcow2 -c 'write -P 0x11 0 300k' -c 'write -c -P 0x12 400k 64k' {base} >/dev/null")
os.system(f"qemu-img snapshot -c s {base}")
data = bytearray(open(base, 'rb').read())
h = struct.unpack('>IIQIIQIIQQIIQ', bytes(data[:72]))
l1, rt = h[8], h[9]
# metadata bytes worth flipping: header, L1, refcount table, L2 and blocks
cands = list(range(0, 104)) + list(range(l1, l1 + 16)) + list(range(rt, rt + 16))
l2 = struct.unpack('>Q', bytes(data[l1:l1 + 8]))[0] & 0x00fffffffffffe00
rb = struct.unpack('>Q', bytes(data[rt:rt + 8]))[0]
if l2: cands += list(range(l2, l2 + 4096))
if rb: cands += list(range(rb, rb + 256))
for i in range(40):
    d = bytearray(data)
    for _ in range(random.randint(1, 4)):
        p = random.choice(cands)
        d[p] ^= 1 << random.randint(0, 7)
    open(os.path.join(t, f"flip{i}.qcow2"), 'wb').write(d)
EOF
bad=0
i=0
while [ $i -lt 40 ]; do
	f=$T/flip$i.qcow2
	for c in "write 4097 $T/four" "write-zeroes 8000 70000" "discard 0 300000" "resize 3M" "write 1900000 $T/four"; do
		# shellcheck disable=SC2086
		timeout 20 "$SAN" "$f" $c >"$T/out" 2>&1
		rc=$?
		if [ $rc -ge 124 ] || grep -q "Sanitizer\|runtime error" "$T/out"; then
			bad=$((bad + 1))
			notok "hostile-flip$i" "rc=$rc $c: $(head -c 300 "$T/out" | tr '\n' ' ')"
			break
		fi
	done
	i=$((i + 1))
done
[ $bad -eq 0 ] && ok "hostile-flips-end-cleanly (40 images x 5 writes)"
