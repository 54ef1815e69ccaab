#!/bin/sh
# host_test/interop/23_qcow2_zstd.sh: compressed images made by qemu-img
# (`convert -c`, zlib and zstd) at every cluster size from 4 KiB to 2 MiB,
# with extended L2, and as the backing file of an overlay: edqcow2 convert
# -O raw and read equal qemu-img's bytes, map agrees with qemu-img map,
# check is clean. Then seeded mutations of the compressed data and of the
# compressed descriptors of zstd images under the ASan/UBSan build: no
# report, no hang, the image untouched; where qemu-img reads a mutated
# image too, both read the same bytes.
# Knobs: ZSTD_SEED (default 1), ZSTD_MUTATIONS (default 40).
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io python3 cmp md5sum timeout || exit 0
if [ ! -x "$ED" ]; then notok zstd-tool "no $ED"; exit 0; fi
CMP="python3 $ROOT/host_test/interop/qcow2_read_cmp.py"
SEED=${ZSTD_SEED:-1}
MUT=${ZSTD_MUTATIONS:-40}
cd "$T" || exit 1

# 8 MiB of what disks hold: random, zeros, text, runs, near and far
# repeats, in 64 KiB pieces (whole zero pieces stay unallocated)
python3 - src.raw <<'EOF'
import random, sys
r = random.Random(7)
words = [b"qcow2 ", b"cluster ", b"refcount ", b"zstd ", b"the ", b"\n", b"kernel ", b"0x1f "]
out = bytearray()
for i in range(128):
    k = i % 7
    if k == 0: piece = bytes(r.getrandbits(8) for _ in range(65536))
    elif k == 1: piece = bytes(65536)
    elif k == 2: piece = b"".join(r.choice(words) for _ in range(12000))[:65536]
    elif k == 3: piece = b"".join(bytes([r.getrandbits(8)]) * r.randint(1, 900) for _ in range(400))[:65536]
    elif k == 4 and len(out) > 300000:
        s = r.randint(0, len(out) - 70000); piece = bytes(out[s:s + 65536])
    elif k == 5: piece = bytes((j * 31 ^ (j >> 7)) & 255 for j in range(65536))
    else: piece = bytes(r.choice(b"ACGT") for _ in range(65536))
    piece = piece.ljust(65536, b"\0")[:65536]
    # a small edit so repeats are not whole clusters
    p = r.randrange(65536); piece = piece[:p] + b"edit" + piece[p + 4:]
    out += piece[:65536]
open(sys.argv[1], "wb").write(bytes(out[:8 << 20]))
EOF

# same NAME IMAGE: convert, a read, map and check agree with qemu-img
same() {
	n=$1 img=$2
	before=$(md5sum < "$img")
	if ! "$ED" "$img" convert ed.raw -O raw 2> err; then
		notok "convert-$n" "$(head -c 300 err)"
	elif ! qemu-img convert -O raw "$img" q.raw 2> err; then
		notok "convert-$n" "qemu-img: $(head -c 300 err)"
	elif cmp -s ed.raw q.raw; then
		ok "convert-$n"
	else
		notok "convert-$n" "$(cmp ed.raw q.raw 2>&1 | head -1)"
	fi
	# an unaligned read across clusters through the bdev view
	"$ED" "$img" read 123457 300000 > ed.bin 2> err &&
		dd if=q.raw bs=1 skip=123457 count=300000 2>/dev/null | cmp -s - ed.bin &&
		ok "read-$n" || notok "read-$n" "$(head -c 300 err)"
	"$ED" "$img" map --json > ed.json 2> err && qemu-img map --output=json "$img" > q.json
	d=$($CMP map ed.json q.json 2>&1)
	if [ -z "$d" ]; then ok "map-$n"; else notok "map-$n" "$d"; fi
	check "check-$n" "$ED" "$img" check
	expect_eq "unchanged-$n" "$(md5sum < "$img")" "$before"
	rm -f ed.raw q.raw ed.bin
}

# every cluster size, both compression types
for ct in zlib zstd; do
	for cs in 4k 8k 16k 32k 64k 128k 256k 512k 1M 2M; do
		n=$ct-$cs
		if qemu-img convert -c -O qcow2 -o compression_type=$ct,cluster_size=$cs \
			src.raw "$n.qcow2" 2> err; then
			same "$n" "$n.qcow2"
		else
			notok "make-$n" "$(head -c 300 err)"
		fi
	done
done
# qemu-img check counts compressed clusters: the test saw compression
got=$(qemu-img check zstd-64k.qcow2 | sed -n 's/.* \([0-9.]*\)% compressed clusters.*/\1/p')
case $got in
0.00|"") notok zstd-really-compressed "qemu-img check: ${got:-no} compressed clusters" ;;
*) ok zstd-really-compressed ;;
esac

# extended L2
for cs in 32k 64k 2M; do
	n=zstd-extl2-$cs
	qemu-img convert -c -O qcow2 -o compression_type=zstd,cluster_size=$cs,extended_l2=on \
		src.raw "$n.qcow2" 2> err && same "$n" "$n.qcow2" || notok "make-$n" "$(head -c 300 err)"
done

# compressed image as the backing file of an overlay with its own writes
for ct in zlib zstd; do
	n=overlay-$ct
	qemu-img create -q -f qcow2 -b $ct-64k.qcow2 -F qcow2 -o cluster_size=16k "$n.qcow2" 8M
	qemu-io -f qcow2 -c "write -P 0x5a 100k 40k" -c "write -z 1M 64k" -c "write -P 7 8000k 100k" \
		"$n.qcow2" > /dev/null
	same "$n" "$n.qcow2"
	# and an overlay whose own clusters are compressed too (qemu-io write -c)
	qemu-img create -q -f qcow2 -b $ct-64k.qcow2 -F qcow2 -o compression_type=$ct "$n-c.qcow2" 8M
	qemu-io -f qcow2 -c "write -c -P 0x3c 0 64k" -c "write -c -P 0x3d 2M 128k" "$n-c.qcow2" > /dev/null
	same "$n-c" "$n-c.qcow2"
done

# ---- hostile: seeded mutations of zstd images under ASan/UBSan ------------------
if [ ! -x "$ED_SAN" ]; then
	notok zstd-hostile "missing $ED_SAN (make sanitize)"
	exit 0
fi
export ASAN_OPTIONS=exitcode=99:detect_leaks=1
export UBSAN_OPTIONS=exitcode=99:print_stacktrace=1:halt_on_error=1
# mutate SRC DST SEED: flips bytes in compressed data (most cases) or in a
# compressed descriptor's size bits; prints what it did
cat > mut.py <<'EOF'
import random, struct, sys
src, dst, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = random.Random(seed)
b = bytearray(open(src, "rb").read())
be = lambda f, o: struct.unpack_from(">" + f, b, o)[0]
cb = be("I", 20); cs = 1 << cb
l1_size, l1_off = be("I", 36), be("Q", 40)
incompat = be("Q", 72); esz = 16 if incompat & 16 else 8
x = 62 - (cb - 8)
comp = []
for i in range(l1_size):
    l2 = be("Q", l1_off + 8 * i) & 0x00fffffffffffe00
    if not l2: continue
    for j in range(cs // esz):
        o = l2 + j * esz
        e = be("Q", o)
        if e & (1 << 62):
            host = e & ((1 << x) - 1)
            n = ((e >> x) & ((1 << (cb - 8)) - 1)) + 1
            comp.append((o, host, (host & ~511) + n * 512))
o, s, e = r.choice(comp)
if r.random() < 0.15:
    # the descriptor's sector count: shorter or longer input
    v = be("Q", o) ^ (1 << (x + r.randrange(cb - 8)))
    struct.pack_into(">Q", b, o, v); what = "desc@%d" % o
else:
    e = min(e, len(b)); what = []
    for _ in range(r.choice((1, 1, 2, 4, 16))):
        p = r.randrange(s, e)
        b[p] = r.getrandbits(8) if r.random() < 0.5 else b[p] ^ (1 << r.randrange(8))
        what.append(p)
    what = "data@" + ",".join(map(str, what))
open(dst, "wb").write(b)
print(what)
EOF
bad=0 both=0
for i in $(seq 1 "$MUT"); do
	case $((i % 3)) in
	0) base=zstd-4k ;; 1) base=zstd-64k ;; *) base=zstd-extl2-2M ;;
	esac
	s=$((SEED * 1000 + i))
	what=$(python3 mut.py $base.qcow2 m.qcow2 $s)
	cp m.qcow2 orig.qcow2
	why=""
	for c in "convert out.raw -O raw" "read 0 1048576" "map" "check"; do
		# shellcheck disable=SC2086
		timeout 20 "$ED_SAN" m.qcow2 $c > out 2> err
		rc=$?
		if [ $rc -eq 124 ]; then why="$c: hang"
		elif grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' err; then
			why="$c: $(grep -m1 -E 'ERROR:|runtime error:' err)"
		elif [ $rc -ge 99 ]; then why="$c: exit $rc"
		elif [ $rc -ne 0 ] && ! { [ "$c" = check ] && [ $rc -le 3 ]; } &&
		     ! grep -q edqcow2 err; then why="$c: exit $rc, no message"
		fi
		[ -z "$why" ] || break
		if [ "$c" = "convert out.raw -O raw" ] && [ $rc -eq 0 ] &&
		   qemu-img convert -O raw m.qcow2 q.raw 2>/dev/null; then
			both=$((both + 1))
			cmp -s out.raw q.raw || why="reads differently from qemu-img"
		fi
	done
	cmp -s m.qcow2 orig.qcow2 || why="${why:+$why; }the image changed"
	if [ -n "$why" ]; then
		bad=$((bad + 1))
		mkdir -p "$B/zstd-fail"
		cp orig.qcow2 "$B/zstd-fail/mut-$s.qcow2"
		notok "zstd-mutation-$s" "$base $what: $why"
	fi
	rm -f out.raw q.raw
done
[ $bad -eq 0 ] && ok "zstd-mutations ($MUT cases, $both read by both)"
