#!/bin/sh
# host_test/fuzz/make_corpus.sh: builds the fuzz seed corpus in OUTDIR from
# scratch: small qemu-img/qemu-io made qcow2 images (OUTDIR/qcow2), raw
# deflate streams made by zlib (OUTDIR/inflate), frames made by the zstd
# tool (OUTDIR/zstd with a 3-byte output size, OUTDIR/zstd_diff bare),
# sfdisk-made partition
# tables (OUTDIR/mbr). Nothing binary is kept in git; make fuzz calls this.
# Usage: make_corpus.sh OUTDIR
set -eu
out=${1:?usage: make_corpus.sh OUTDIR}
rm -rf "$out"
mkdir -p "$out/qcow2" "$out/inflate" "$out/mbr" "$out/zstd" "$out/zstd_diff" "$out/gpt"
w=$(mktemp -d "${TMPDIR:-/tmp}/hdi-corpus.XXXXXX")
trap 'rm -rf "$w"' EXIT
Q=$out/qcow2

have() { command -v "$1" >/dev/null 2>&1; }

# mk NAME SIZE OPTIONS [qemu-io commands...]
mk() {
	name=$1 size=$2 opts=$3
	shift 3
	qemu-img create -q -f qcow2 -o "$opts" "$w/$name" "$size"
	for c in "$@"; do
		qemu-io -f qcow2 -c "$c" "$w/$name" >/dev/null
	done
	cp "$w/$name" "$Q/$name"
}

if have qemu-img && have qemu-io; then
	mk v3-c512 1M cluster_size=512 "write -P 0x11 0 4k" "write -P 0x22 64k 3k" \
		"write -z 8k 2k" "discard 64k 1k" "write -P 0x33 1020k 4k"
	mk v2-c512 1M compat=0.10,cluster_size=512 "write -P 0x44 0 2k" "write -z 4k 1k"
	mk v3-c4k-compressed 1M cluster_size=4k "write -c -P 0x55 0 4k" \
		"write -c -P 0x66 8k 4k" "write -P 0x77 16k 4k" "write -c 20k 4k"
	mk v3-c512-compressed 256k cluster_size=512 "write -c -P 0x12 0 512" \
		"write -c -P 0x13 4k 2k"
	mk v3-extl2-c16k 512k cluster_size=16k,extended_l2=on "write -P 0x88 0 2k" \
		"write -P 0x99 20k 1k" "write -z 40k 16k" "write -z 70k 2k"
	mk v3-rc1-c512 1M cluster_size=512,refcount_bits=1 "write -P 1 0 3k"
	mk v3-rc64-c512 1M cluster_size=512,refcount_bits=64 "write -P 2 0 3k"
	mk v3-prealloc-c512 64k cluster_size=512,preallocation=metadata
	mk v3-lazy-c512 1M cluster_size=512,lazy_refcounts=on "write -P 3 0 2k"
	qemu-img create -q -f qcow2 -o cluster_size=512,lazy_refcounts=on "$w/dirty" 1M
	qemu-io -f qcow2 -c "write -P 4 0 2k" -c "sigraise 9" "$w/dirty" >/dev/null 2>&1 || true
	cp "$w/dirty" "$Q/v3-dirty-c512"
	mk v3-4T-c64k 4T cluster_size=64k
	mk v3-snap-c512 1M cluster_size=512 "write -P 7 0 2k"
	qemu-img snapshot -c snap1 "$w/v3-snap-c512"
	qemu-io -f qcow2 -c "write -P 8 0 1k" -c "write -P 9 8k 1k" "$w/v3-snap-c512" >/dev/null
	qemu-img snapshot -c snap2 "$w/v3-snap-c512"
	cp "$w/v3-snap-c512" "$Q/"
	mk v3-bitmap-c4k 1M cluster_size=4k "write -P 10 0 4k"
	qemu-img bitmap --add "$w/v3-bitmap-c4k" b0 && cp "$w/v3-bitmap-c4k" "$Q/"
	# backing chains: the fuzz targets serve "r..." names and fmt raw as a
	# raw pattern, anything else as the input itself (a chain, then a loop)
	qemu-img create -q -f raw "$w/r.raw" 256k
	qemu-img create -q -f qcow2 -o cluster_size=512 -b r.raw -F raw "$w/over-raw" 256k
	qemu-io -f qcow2 -c "write -P 11 4k 1k" "$w/over-raw" >/dev/null
	cp "$w/over-raw" "$Q/"
	qemu-img create -q -f qcow2 -o cluster_size=512 "$w/base.qcow2" 256k
	qemu-img create -q -f qcow2 -o cluster_size=512 -b base.qcow2 -F qcow2 "$w/over-q" 256k
	qemu-io -f qcow2 -c "write -P 12 0 1k" "$w/over-q" >/dev/null
	cp "$w/over-q" "$Q/"
	if qemu-img create -q -f qcow2 -o cluster_size=4k,compression_type=zstd "$w/zstd" 64k 2>/dev/null; then
		qemu-io -f qcow2 -c "write -c -P 13 0 4k" "$w/zstd" >/dev/null 2>&1 || true
		cp "$w/zstd" "$Q/v3-zstd-c4k"
	fi
else
	echo "make_corpus: qemu-img/qemu-io missing: qcow2 seeds are only the header" >&2
	printf 'QFI\373' > "$Q/magic-only"
fi

# inflate: 2 bytes of output size (big-endian), then the raw stream
python3 - "$out/inflate" <<'EOF'
import os, random, sys, zlib
d = sys.argv[1]
rnd = random.Random(1)
def data(kind, n):
    if kind == 0: return bytes(rnd.getrandbits(8) for _ in range(n))
    if kind == 1: return bytes(n)
    if kind == 2: return (b"qcow2 cluster refcount table L2 " * (n // 32 + 1))[:n]
    return bytes(rnd.choice(b"ACGT") for _ in range(n))
i = 0
for n in (0, 1, 100, 700, 4096, 20000):
    for kind in range(4):
        for level, strat in ((0, 0), (1, 0), (6, 0), (9, 0), (6, zlib.Z_FIXED), (6, zlib.Z_HUFFMAN_ONLY)):
            c = zlib.compressobj(level, zlib.DEFLATED, -12, 8, strat)
            s = c.compress(data(kind, n)) + c.flush()
            with open(os.path.join(d, "s%03d" % i), "wb") as f:
                f.write(n.to_bytes(2, "big") + s)
            i += 1
EOF

# zstd: frames by the zstd tool at several levels, windows, with and
# without checksum and content size; several frames and a skippable one
if have zstd; then
	python3 - "$w" <<'EOF'
import os, random, sys
d = sys.argv[1]
rnd = random.Random(2)
def data(kind, n):
    if kind == 0: return bytes(rnd.getrandbits(8) for _ in range(n))
    if kind == 1: return bytes(n)
    if kind == 2: return (b"qcow2 cluster refcount table L2 " * (n // 32 + 1))[:n]
    if kind == 3: return bytes(rnd.choice(b"ACGT") for _ in range(n))
    return bytes((i * 7 ^ (i >> 5)) & 255 for i in range(n))
for n in (0, 1, 200, 5000, 40000):
    for kind in range(5):
        open(os.path.join(d, "in-%d-%d" % (n, kind)), "wb").write(data(kind, n))
EOF
	i=0
	for f in "$w"/in-*; do
		for opt in -1 -3 -19 --fast=4 "-3 --no-check" "-5 --no-content-size" \
			"-9 --zstd=wlog=10" "-22 --ultra --zstd=wlog=12"; do
			# shellcheck disable=SC2086
			zstd -q -c $opt "$f" > "$w/z" 2>/dev/null || continue
			cp "$w/z" "$out/zstd_diff/s$i"
			python3 -c 'import sys; n=int(sys.argv[1]); sys.stdout.buffer.write(n.to_bytes(3,"big"))' \
				"$(wc -c < "$f")" > "$out/zstd/s$i"
			cat "$w/z" >> "$out/zstd/s$i"
			i=$((i + 1))
		done
	done
	# two frames and a skippable frame, as QEMU's streaming writer may leave
	zstd -q -c -3 "$w/in-5000-2" > "$w/a"
	zstd -q -c --no-content-size "$w/in-5000-4" > "$w/b"
	printf '\120\052\115\030\004\000\000\000skip' | cat "$w/a" - "$w/b" > "$out/zstd_diff/multi"
	printf '\000\047\020' | cat - "$out/zstd_diff/multi" > "$out/zstd/multi"
fi

# mbr: sfdisk-made tables on a small disk, trimmed to the last used sector
# (at most MAX bytes: a GPT keeps its header and entries, not its backup)
mbr() {
	name=$1 max=${2:-131072}
	truncate -s 1M "$w/$name"
	sfdisk -q --no-reread --no-tell-kernel "$w/$name" >/dev/null 2>&1
	python3 - "$w/$name" "$out/mbr/$name" "$max" <<'EOF'
import sys
b = open(sys.argv[1], "rb").read()
end = min(len(b), int(sys.argv[3]))
while end > 512 and not any(b[end - 512:end]):
    end -= 512
open(sys.argv[2], "wb").write(b[:end])
EOF
}
if have sfdisk; then
	printf 'label: dos\nstart=63, size=200, type=83, bootable\n' | mbr one
	printf 'label: dos\nstart=16, size=100, type=83\nstart=116, size=100, type=7\nstart=216, size=100, type=c\nstart=316, size=100, type=82\n' | mbr four
	printf 'label: dos\nstart=8, size=50, type=83\nstart=64, size=1000, type=5\nstart=72, size=40\nstart=120, size=40\nstart=170, size=100, type=7\n' | mbr ext
	printf 'label: dos\nstart=8, size=50, type=83\nstart=64, size=1000, type=f\nstart=72, size=40\n' | mbr extlba
	printf 'label: gpt\nstart=40, size=100\n' | mbr gpt 17408
fi
head -c 512 /dev/zero > "$out/mbr/zero"

# gpt: whole small disks from sfdisk, backup header and array included
gpt() {
	name=$1 size=$2
	truncate -s "$size" "$out/gpt/$name"
	sfdisk -q --no-reread --no-tell-kernel "$out/gpt/$name" >/dev/null 2>&1 || rm -f "$out/gpt/$name"
}
if have sfdisk; then
	printf 'label: gpt\nstart=40, size=20, type=U, name="esp"\nstart=64, size=10\n' | gpt two 64K
	printf 'label: gpt\ntable-length: 4\nstart=8, size=20, attrs="RequiredPartition GUID:60"\n,,S\n' | gpt short 64K
	printf 'label: gpt\nstart=34, size=100\nstart=180, size=30, type=H\n' | gpt three 128K
fi

echo "make_corpus: $(ls "$Q" | wc -l) qcow2, $(ls "$out/inflate" | wc -l) inflate, $(ls "$out/zstd" | wc -l) zstd, $(ls "$out/mbr" | wc -l) mbr, $(ls "$out/gpt" | wc -l) gpt seeds in $out"
