#!/bin/sh
# host_test/interop/20_qcow2_read.sh: images made by qemu-img/qemu-io across
# versions, cluster sizes, refcount widths, zero/discard, extended L2, lazy
# refcounts (dirty), preallocation, compression, backing chains, snapshots,
# bitmaps and a multi-TiB sparse disk. edqcow2 convert -O raw must equal
# qemu-img convert byte for byte; map/info JSON must agree with qemu-img's;
# read-only commands must leave the image unchanged.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io python3 cmp md5sum || exit 0
if [ ! -x "$ED" ]; then notok qcow2-read-tool "no $ED"; exit 0; fi
CMP="python3 $ROOT/host_test/interop/qcow2_read_cmp.py"

qio() { qemu-io -f qcow2 "$@" >/dev/null 2>&1; }

# same NAME IMAGE [SNAPSHOT]: convert, map and info agree with qemu-img and
# the image is not modified.
same() {
	n=$1 img=$2 snap=${3:-}
	before=$(md5sum < "$img")
	if [ -n "$snap" ]; then
		"$ED" "$img" convert "$T/ed.raw" -O raw --snapshot "$snap" 2>"$T/err" &&
		qemu-img convert -O raw -l "snapshot.name=$snap" "$img" "$T/q.raw" 2>>"$T/err" ||
		qemu-img convert -O raw -l "snapshot.id=$snap" "$img" "$T/q.raw" 2>>"$T/err"
	else
		"$ED" "$img" convert "$T/ed.raw" -O raw 2>"$T/err" &&
		qemu-img convert -O raw "$img" "$T/q.raw" 2>>"$T/err"
	fi
	if [ $? -ne 0 ]; then
		notok "convert-$n" "$(head -c 300 "$T/err")"
	elif cmp -s "$T/ed.raw" "$T/q.raw"; then
		ok "convert-$n"
	else
		notok "convert-$n" "$(cmp "$T/ed.raw" "$T/q.raw" 2>&1 | head -1)"
	fi
	if [ -z "$snap" ]; then
		jcmp map "$n" "$img" map --json -- map --output=json
		jcmp info "$n" "$img" info --json -- info --output=json
	fi
	expect_eq "unchanged-$n" "$(md5sum < "$img")" "$before"
	rm -f "$T/ed.raw" "$T/q.raw"
}

# jcmp KIND NAME IMAGE EDARGS... -- QEMUARGS...: JSON of both agree.
jcmp() {
	k=$1 n=$2 img=$3; shift 3
	ea=""
	while [ "$1" != -- ]; do ea="$ea $1"; shift; done
	shift
	# shellcheck disable=SC2086
	if ! "$ED" "$img" $ea > "$T/ed.json" 2>"$T/err"; then
		notok "$k-$n" "edqcow2: $(head -c 300 "$T/err")"; return
	fi
	qemu-img "$@" "$img" > "$T/q.json" 2>/dev/null
	d=$($CMP "$k" "$T/ed.json" "$T/q.json" 2>&1)
	if [ -z "$d" ]; then ok "$k-$n"; else notok "$k-$n" "$d"; fi
}

# pattern writes that cross cluster and subcluster boundaries
fill() {
	qio "$1" -c "write -P 0x11 0 3k" -c "write -P 0x22 70k 200k" \
		-c "write -P 0x33 1M 64k" -c "write -P 0x44 3583k 1k"
}

cd "$T" || exit 1

# --- versions x cluster sizes --------------------------------------------------
for compat in 0.10 1.1; do
	for cs in 512 4k 64k 2M; do
		n=c$compat-$cs
		qemu-img create -q -f qcow2 -o compat=$compat,cluster_size=$cs "$n.qcow2" 4M
		fill "$n.qcow2"
		same "$n" "$n.qcow2"
	done
done

# --- refcount widths (info shows them; the read path must not care) -------------
for rb in 1 2 4 8 32 64; do
	qemu-img create -q -f qcow2 -o refcount_bits=$rb "rb$rb.qcow2" 2M
	qio "rb$rb.qcow2" -c "write -P 0x5a 64k 128k"
	same "refcount$rb" "rb$rb.qcow2"
done

# --- zero writes and discards, v2 and v3 ------------------------------------------
for compat in 0.10 1.1; do
	n=zd$compat
	qemu-img create -q -f qcow2 -o compat=$compat "$n.qcow2" 4M
	qio "$n.qcow2" -c "write -P 0x66 0 2M" -c "write -z 64k 128k" \
		-c "discard 512k 256k" -c "write -z 3M 1M" -c "write -z 1536k 4k"
	same "zero-discard-$compat" "$n.qcow2"
done

# --- extended L2: subcluster allocation and zero bitmaps ------------------------
for cs in 32k 64k 2M; do
	n=el2-$cs
	qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=$cs "$n.qcow2" 6M
	qio "$n.qcow2" -c "write -P 0x71 4k 4k" -c "write -P 0x72 130k 9k" \
		-c "write -z 1M 64k" -c "write -P 0x73 2M 1M" -c "write -z 2100k 8k" \
		-c "discard 2200k 64k"
	same "extended-l2-$cs" "$n.qcow2"
done
# extended L2 over a backing file: unallocated subclusters come from it
qemu-img create -q -f qcow2 el2base.qcow2 2M
qio el2base.qcow2 -c "write -P 0x81 0 2M"
qemu-img create -q -f qcow2 -o extended_l2=on -b el2base.qcow2 -F qcow2 el2top.qcow2 2M
qio el2top.qcow2 -c "write -P 0x82 8k 4k" -c "write -z 100k 4k" -c "write -P 0x83 200k 70k"
same extended-l2-backing el2top.qcow2

# --- lazy refcounts, and a dirty image from a killed qemu-io -----------------------
qemu-img create -q -f qcow2 -o lazy_refcounts=on lazy.qcow2 2M
qio lazy.qcow2 -c "write -P 0x91 0 300k"
same lazy lazy.qcow2
qemu-img create -q -f qcow2 -o lazy_refcounts=on dirty.qcow2 2M
qemu-io -f qcow2 -c "write -P 0x92 64k 500k" -c "sigraise 9" dirty.qcow2 >/dev/null 2>&1
got=$(qemu-img info --output=json -U dirty.qcow2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["dirty-flag"])')
expect_eq dirty-flag-set "$got" True
same dirty dirty.qcow2

# --- preallocation -------------------------------------------------------------
for p in metadata full falloc; do
	qemu-img create -q -f qcow2 -o preallocation=$p "pre-$p.qcow2" 3M
	qio "pre-$p.qcow2" -c "write -P 0xa1 100k 50k"
	same "prealloc-$p" "pre-$p.qcow2"
done

# --- compressed clusters: qemu-io write -c and qemu-img convert -c ----------------
for cs in 4k 64k 2M; do
	n=wc-$cs
	qemu-img create -q -f qcow2 -o cluster_size=$cs "$n.qcow2" 4M
	qio "$n.qcow2" -c "write -c -P 0xb1 0 $cs" -c "write -P 0xb2 2M 64k"
	same "write-c-$cs" "$n.qcow2"
done
python3 -c '
import random, sys
r = random.Random(7)
words = [b"alpha", b"beta", b"gamma", b"delta", bytes(40)]
out = bytearray()
while len(out) < 3 << 20:
    out += r.choice(words) if r.random() < 0.9 else bytes([r.randrange(256)]) * r.randrange(1, 300)
sys.stdout.buffer.write(out[:3 << 20])' > text.raw
for cs in 512 64k; do
	qemu-img convert -q -c -f raw -O qcow2 -o cluster_size=$cs text.raw "cc-$cs.qcow2"
	same "convert-c-$cs" "cc-$cs.qcow2"
done
qemu-img convert -q -c -f raw -O qcow2 -o extended_l2=on text.raw cc-el2.qcow2
same convert-c-extended-l2 cc-el2.qcow2

# --- backing chains: qcow2 -> qcow2 -> raw, shorter backing files ------------------
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4096)' > base.raw
truncate -s 2M base.raw
qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2 3M
qio mid.qcow2 -c "write -P 0xc1 64k 64k" -c "write -z 256k 64k" -c "write -P 0xc2 2560k 64k"
mkdir -p sub
qemu-img create -q -f qcow2 -b ../mid.qcow2 -F qcow2 sub/top.qcow2 5M
qio sub/top.qcow2 -c "write -P 0xc3 100k 20k" -c "write -z 1M 64k" -c "write -P 0xc4 4M 64k"
same chain-raw-backing mid.qcow2
same chain-3-levels sub/top.qcow2
qemu-img create -q -f qcow2 -b base.raw nofmt.qcow2 2M 2>/dev/null ||
	qemu-img create -q -f qcow2 -u -b base.raw -F raw nofmt.qcow2 2M
same chain-backing-format nofmt.qcow2

# a missing backing file: info still works (as qemu-img info), reads fail
qemu-img create -q -f qcow2 -u -b nowhere/gone.qcow2 -F qcow2 orphan.qcow2 1M
jcmp info orphan orphan.qcow2 info --json -- info --output=json
if "$ED" orphan.qcow2 read 0 512 >/dev/null 2>err; then
	notok orphan-read "exit 0"
else
	grep -q "gone.qcow2" err && ok orphan-read || notok orphan-read "$(cat err)"
fi

# --- internal snapshots --------------------------------------------------------
qemu-img create -q -f qcow2 snap.qcow2 2M
qio snap.qcow2 -c "write -P 0xd1 0 1M"
qemu-img snapshot -c first snap.qcow2
qio snap.qcow2 -c "write -P 0xd2 512k 1M" -c "write -z 0 64k"
qemu-img snapshot -c "second snap" snap.qcow2
qemu-img resize -q snap.qcow2 3M
qio snap.qcow2 -c "write -P 0xd3 2M 1M"
same snapshots-active snap.qcow2
# small clusters: QEMU leaves the table's last padding unwritten at EOF
qemu-img create -q -f qcow2 -o cluster_size=4k snap4k.qcow2 1M
qio snap4k.qcow2 -c "write -P 0xd4 0 100k"
qemu-img snapshot -c s4 snap4k.qcow2
qio snap4k.qcow2 -c "write -P 0xd5 50k 100k"
same snapshots-4k snap4k.qcow2
same snapshot-4k-by-name snap4k.qcow2 s4
same snapshot-by-name snap.qcow2 first
same snapshot-by-id snap.qcow2 2
"$ED" snap.qcow2 snapshot list --json > ed.json 2>err
qemu-img info --output=json snap.qcow2 > q.json
d=$($CMP snap ed.json q.json)
if [ -z "$d" ]; then ok snapshot-list-json; else notok snapshot-list-json "$d"; fi
n=$("$ED" snap.qcow2 snapshot list | grep -c 'second snap')
expect_eq snapshot-list-human "$n" 1
# qemu-img map cannot open a snapshot: the extents must tile the disk,
# which keeps the image's current size (3 MiB) as in qemu-img convert -l
got=$("$ED" snap.qcow2 map --json --snapshot first | python3 -c '
import json, sys
e = json.load(sys.stdin); pos = 0
for x in e:
    assert x["start"] == pos; pos += x["length"]
print(pos)')
expect_eq snapshot-map-size "$got" 3145728
python3 -c 'import sys; sys.stdout.buffer.write(bytes([0xd1]) * (1 << 20))' > d1.bin
if "$ED" snap.qcow2 read 0 1M --snapshot first | cmp -s - d1.bin; then
	ok snapshot-read
else
	notok snapshot-read "bytes differ"
fi
if "$ED" snap.qcow2 read 0 1 --snapshot nosuch >/dev/null 2>err; then
	notok snapshot-missing "exit 0"
else
	grep -q "nosuch" err && ok snapshot-missing || notok snapshot-missing "$(cat err)"
fi

# --- bitmaps -------------------------------------------------------------------
qemu-img create -q -f qcow2 bm.qcow2 2M
qio bm.qcow2 -c "write -P 0xe1 0 64k"
qemu-img bitmap --add bm.qcow2 b0
qemu-img bitmap --add -g 1M --disable bm.qcow2 "second bitmap"
same bitmaps bm.qcow2

# --- a sparse disk of several TiB ------------------------------------------------
qemu-img create -q -f qcow2 huge.qcow2 5T
qio huge.qcow2 -c "write -P 0xf1 0 64k" -c "write -P 0xf2 3T 128k" -c "write -P 0xf3 5119G 1M"
jcmp map huge huge.qcow2 map --json -- map --output=json
jcmp info huge huge.qcow2 info --json -- info --output=json
if "$ED" huge.qcow2 convert huge.raw -O raw 2>err &&
	qemu-img compare -q -f raw -F qcow2 huge.raw huge.qcow2 2>>err; then
	ok convert-huge
else
	notok convert-huge "$(head -c 300 err)"
fi
got=$("$ED" huge.qcow2 read 3T 16 | od -An -tx1 | tr -d ' \n')
expect_eq read-huge "$got" f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2
rm -f huge.raw

# --- read: byte ranges, edges -----------------------------------------------------
"$ED" c1.1-64k.qcow2 read 69k 3k > ed.bin
qemu-img convert -O raw c1.1-64k.qcow2 q.raw
dd if=q.raw bs=1024 skip=69 count=3 2>/dev/null | cmp -s - ed.bin && ok read-range || notok read-range differ
"$ED" c1.1-64k.qcow2 read 4M 1 >/dev/null 2>err && notok read-past-end "exit 0" || ok read-past-end
got=$("$ED" c1.1-64k.qcow2 read 4095k 1k | wc -c)
expect_eq read-last-k "$got" 1024
rm -f q.raw

# --- refused features, with the reason named ---------------------------------------
# refuses NAME IMAGE TEXT: info fails and the message has TEXT.
refuses() {
	if "$ED" "$2" info >/dev/null 2>err; then notok "$1" "opened"
	elif grep -qi "$3" err; then ok "$1"
	else notok "$1" "$(cat err)"; fi
}
qemu-img create -q -f qcow2 -o compression_type=zstd zstd.qcow2 1M 2>/dev/null
if [ -s zstd.qcow2 ]; then
	qio zstd.qcow2 -c "write -c -P 1 0 64k"
	got=$("$ED" zstd.qcow2 info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["format-specific"]["data"]["compression-type"])')
	expect_eq zstd-opens "$got" zstd
	"$ED" zstd.qcow2 read 0 64k > zstd.bin 2>err || notok zstd-read "$(cat err)"
	head -c 65536 /dev/zero | tr '\0' '\1' | cmp -s - zstd.bin && ok zstd-read || notok zstd-read differ
fi
qemu-img create -q -f qcow2 --object secret,id=s0,data=pw -o encrypt.format=luks,encrypt.key-secret=s0 luks.qcow2 1M 2>/dev/null
refuses encrypted-luks luks.qcow2 "LUKS"
qemu-img create -q -f qcow2 plain.qcow2 1M
cp plain.qcow2 aes.qcow2
printf '\000\000\000\001' | dd of=aes.qcow2 bs=1 seek=32 conv=notrunc 2>/dev/null
refuses encrypted-aes aes.qcow2 "AES"
qemu-img create -q -f qcow2 -o data_file=ext.data extdata.qcow2 1M
refuses external-data-file extdata.qcow2 "external data file"
cp plain.qcow2 bit7.qcow2
printf '\200' | dd of=bit7.qcow2 bs=1 seek=79 conv=notrunc 2>/dev/null
refuses unknown-incompat-bit bit7.qcow2 "unknown incompatible feature bit 7"

# --- every read command has --help -------------------------------------------------
for c in info map read convert snapshot; do
	check "help-$c" "$ED" "$c" --help
done
exit 0
