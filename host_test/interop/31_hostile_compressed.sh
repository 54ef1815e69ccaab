#!/bin/sh
# host_test/interop/31_hostile_compressed.sh: seeded mutations of compressed
# images, zlib and zstd, made by qemu-img convert -c and by our convert -c:
# bits flipped in the compressed streams, streams cut short, descriptors
# with wrong sector counts or offsets. Through the SANITIZER build, read,
# map, check, convert -O raw and convert -c must end by themselves (timeout
# 20), print no sanitizer report, exit 0 or with a clean error status, and leave the
# image byte-identical; then compressed and normal writes over the mutated
# clusters must end cleanly too. Knobs: HOSTILE_SEED (default 1),
# HOSTILE_CCASES (cases per image, default 20).
. "$(dirname "$0")/../lib.sh"
need qemu-img python3 cmp timeout || exit 0
SEED=${HOSTILE_SEED:-1}
CASES=${HOSTILE_CCASES:-20}
export ASAN_OPTIONS=exitcode=99:detect_leaks=1
export UBSAN_OPTIONS=exitcode=99:print_stacktrace=1:halt_on_error=1
if [ ! -x "$ED_SAN" ] || ! grep -q __asan_init "$ED_SAN"; then
	notok hostile-compressed.sanitizer-build "missing or not sanitized: $ED_SAN"
	exit 0
fi

PY=$T/mut.py
cat > "$PY" <<'EOF'
import random, struct, sys
path, seed, case = sys.argv[1], sys.argv[2], sys.argv[3]
b = bytearray(open(path, "rb").read())
be = lambda f, o: struct.unpack_from(">" + f, b, o)[0]
cb = be("I", 20); cs = 1 << cb
l1n, l1o = be("I", 36), be("Q", 40)
ebytes = 16 if be("I", 4) >= 3 and be("Q", 72) & 16 else 8
shift = 62 - (cb - 8)
ents = []                                   # (file offset of entry, entry)
for i in range(l1n):
    l2 = be("Q", l1o + 8 * i) & 0x00fffffffffffe00
    for j in range(0, cs, ebytes) if l2 else []:
        e = be("Q", l2 + j)
        if e >> 62 & 1:
            ents.append((l2 + j, e))
r = random.Random("%s/%s/%s" % (seed, path.rsplit("/", 1)[-1], case))
p, e = r.choice(ents)
host = e & ((1 << shift) - 1)
nsec = (e >> shift & ((1 << (cb - 8)) - 1)) + 1
end = min(len(b), (host & ~511) + nsec * 512)
kind = r.choice(["bits", "bits", "bytes", "cut", "nsec", "offset"])
if kind == "bits":
    for _ in range(r.randint(1, 6)):
        o = r.randrange(host, end); b[o] ^= 1 << r.randrange(8)
elif kind == "bytes":
    o = r.randrange(host, end)
    for k in range(r.randint(1, 16)):
        if o + k < end: b[o + k] = r.randrange(256)
elif kind == "cut":
    o = r.randrange(host, end)
    b[o:end] = bytes(end - o)
elif kind == "nsec":
    n = r.choice([0, 1, r.randrange(1 << (cb - 8))])
    struct.pack_into(">Q", b, p, e & ~(((1 << (cb - 8)) - 1) << shift) | n << shift)
else:
    d = r.choice([-512, -1, 1, 7, cs, -cs, r.randrange(1 << 20)])
    struct.pack_into(">Q", b, p, (e & ~((1 << shift) - 1)) | max(0, host + d) & ((1 << shift) - 1))
open(path, "wb").write(b)
print(kind, p, hex(e))
EOF

# run NAME CMD...: judged for a clean end (exit 0 or an error status up to
# 3, check's "corruptions" and "leaks" included; no report, no hang)
run() {
	n=$1; shift
	timeout 20 "$@" >"$T/out" 2>"$T/err"
	rc=$?
	case $rc in
	0|1|2|3) return 0 ;;
	124) why="$n: hang (timeout)" ;;
	*) why="$n: exit $rc $(grep -m1 -E 'ERROR|runtime error' "$T/err")" ;;
	esac
	return 1
}

python3 - "$T/src.raw" <<'EOF'
import random, sys
random.seed(31)
w = [b"alpha", b"beta", b"kernel", b"\n", b"zstd", b"qcow2"]
b = bytearray()
while len(b) < (1 << 20):
    b += random.choice(w) + b" "
b = bytes(b[:1 << 20]) + random.randbytes(65536) + bytes(b[:300000])
open(sys.argv[1], "wb").write(b)
EOF
mkdir -p "$T/base"
for ct in zlib zstd; do
	qemu-img convert -c -O qcow2 -o compression_type=$ct,cluster_size=64k \
		"$T/src.raw" "$T/base/q-$ct" || { notok "hostile-compressed.setup-$ct" "qemu-img"; continue; }
	"$ED" "$T/src.raw" convert "$T/base/e-$ct" -O qcow2 -c --compression-type $ct \
		--cluster-size 4k || notok "hostile-compressed.setup-e-$ct" "convert -c"
done

for base in "$T"/base/*; do
	b=$(basename "$base")
	fails=0 first=
	k=1
	while [ "$k" -le "$CASES" ]; do
		I=$T/img
		cp "$base" "$I"
		what=$(python3 "$PY" "$I" "$SEED" "$k")
		cp "$I" "$T/orig"
		why=
		for c in "read 0 1441792" "map" "check" "convert $T/o.raw -O raw" \
			 "convert $T/o.qcow2 -O qcow2 -c -j 2"; do
			rm -f "$T/o.raw" "$T/o.qcow2"
			# shellcheck disable=SC2086
			run "$c" "$ED_SAN" "$I" $c || break
		done
		[ -z "$why" ] && ! cmp -s "$I" "$T/orig" && why="read-only commands changed the image"
		if [ -z "$why" ]; then
			head -c 131072 "$T/src.raw" > "$T/two"
			for c in "write --compressed 0 $T/two" "write 70000 $T/two" \
				 "write --compressed 1048576 $T/two"; do
				# shellcheck disable=SC2086
				run "$c" "$ED_SAN" "$I" $c || break
			done
		fi
		if [ -n "$why" ]; then
			fails=$((fails + 1))
			[ -z "$first" ] && first="case $k ($what): $why"
		fi
		k=$((k + 1))
	done
	if [ "$fails" -eq 0 ]; then
		ok "hostile-compressed.$b ($CASES cases, seed $SEED)"
	else
		notok "hostile-compressed.$b" "$fails/$CASES failed, first: $first"
	fi
done
