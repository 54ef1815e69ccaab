#!/bin/sh
# host_test/interop/25_qcow2_write_copies.sh: copies of images qemu-img and
# qemu-io made (snapshots, backing chains, compressed clusters, extended
# L2, a dirty lazy-refcounts image, bitmaps, every refcount width, 512-byte
# and 2 MiB clusters, preallocated metadata, an image over 4 GiB) get the
# same writes as a twin copy written by qemu-io; qemu-img check must pass
# on ours and qemu-img compare must find them equal.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/write_ops.inc"
need qemu-img qemu-io python3 || exit 0

K=1024 M=1048576
OPS="w:0:100000 w:3*65536+17:5000 w:M:2*M p:M+512:7:0x5a z:M+4096:200000
d:2*M-65536:131072+300 w:5*M+511:1 w:8*M:64*K z:8*M:64*K d:0:8192
w:30*M:2*M-1 z:29*M:3*M+7 w:200*K:300*K d:600*K:70*K"
mkdir -p "$T/e" "$T/q"

# base NAME SIZE "-o options" qemu-io-commands...: makes $T/NAME.base
base() {
	bn=$1 bs=$2 bo=$3; shift 3
	qemu-img create -q -f qcow2 ${bo:+-o "$bo"} "$T/$bn.base" "$bs" || return 1
	for c in "$@"; do
		qemu-io -f qcow2 -c "$c" "$T/$bn.base" >/dev/null 2>&1 || return 1
	done
}

# twins NAME [ops]: copies the base to ours and the twin, runs the ops
twins() {
	tn=$1; shift
	cp "$T/$tn.base" "$T/e/$tn.qcow2"
	cp "$T/$tn.base" "$T/q/$tn.qcow2"
	# shellcheck disable=SC2086
	ops_run "$tn" "$T/e/$tn.qcow2" "$T/q/$tn.qcow2" ${*:-$OPS}
}

DATA='write -P 0x11 0 40M'
DATA2='write -P 0x22 512K 3M'

# snapshots: shared clusters are copied on write, snapshots keep their data
base snap 40M "" "$DATA" &&
	qemu-img snapshot -c s1 "$T/snap.base" &&
	qemu-io -f qcow2 -c "$DATA2" -c 'write -z 10M 1M' "$T/snap.base" >/dev/null &&
	qemu-img snapshot -c s2 "$T/snap.base" &&
	qemu-io -f qcow2 -c 'discard 20M 2M' "$T/snap.base" >/dev/null && twins snap
for s in s1 s2; do
	qemu-img convert -l "snapshot.name=$s" -O raw "$T/e/snap.qcow2" "$T/snap-e-$s.raw"
	qemu-img convert -l "snapshot.name=$s" -O raw "$T/q/snap.qcow2" "$T/snap-q-$s.raw"
	check "snap-$s-unchanged" cmp "$T/snap-e-$s.raw" "$T/snap-q-$s.raw"
done
# shrink and grow over snapshot-shared tables
base snap2 40M "cluster_size=4096" "$DATA" && qemu-img snapshot -c s1 "$T/snap2.base" &&
	twins snap2 "w:100:5000 s:10*M w:9*M:M g:50*M w:45*M:M z:0:4*M"

# compressed clusters: partial and whole overwrites, zeroes, discards;
# host clusters shared by several compressed clusters are freed once
base comp 40M "" 'write -c -P 0x31 0 64k' 'write -c -P 0x32 64k 64k' \
	'write -c -P 0x33 128k 64k' 'write -c -P 0x34 192k 128k' &&
	qemu-img convert -c -O qcow2 "$T/comp.base" "$T/comp2.base" &&
	mv "$T/comp2.base" "$T/comp.base" && twins comp \
	"w:1000:3000 w:64*K:64*K w:130*K:200*K z:192*K+512:4*K d:256*K:64*K w:1:1"
base comp3 40M "cluster_size=4096" "$DATA" &&
	qemu-img convert -c -O qcow2 -o cluster_size=4096 "$T/comp3.base" "$T/comp4.base" &&
	mv "$T/comp4.base" "$T/comp3.base" && twins comp3

# extended L2 with subclusters allocated, zeroed and unallocated
base extl2 40M "extended_l2=on" 'write -P 0x41 0 5k' 'write -P 0x42 100k 1k' \
	'write -z 200k 64k' 'write -P 0x43 1M 3M' 'write -z 1M+4k 8k' && twins extl2
base extl2b 40M "extended_l2=on,cluster_size=16384" "$DATA" && twins extl2b

# a lazy-refcounts image left dirty by a killed qemu-io: repaired on open
base lazy 40M "lazy_refcounts=on" "write -P 0x11 0 4M" &&
	qemu-io -f qcow2 -c 'write -P 0x51 5M 3M' -c 'sigraise 9' "$T/lazy.base" >/dev/null 2>&1
# the dirty bit, incompatible feature bit 0, straight from the header
dirty() { python3 -c "import sys;print(open(sys.argv[1],'rb').read(80)[79]&1)" "$1"; }
expect_eq lazy-base-is-dirty "$(dirty "$T/lazy.base")" 1
twins lazy
expect_eq lazy-clean-after "$(dirty "$T/e/lazy.qcow2")" 0

# persistent bitmaps are removed (their clusters freed), not left stale
base bm 40M "" "$DATA" && qemu-img bitmap --add "$T/bm.base" b0 &&
	qemu-img bitmap --add -g 512K "$T/bm.base" b1 && twins bm
n=$(qemu-img info --output=json "$T/e/bm.qcow2" | python3 -c '
import json,sys;j=json.load(sys.stdin);print(len(j["format-specific"]["data"].get("bitmaps",[])))')
expect_eq bitmaps-removed "$n" 0

# every refcount width, qemu-made
for rb in 1 2 4 8 16 32 64; do
	base "rb$rb" 40M "refcount_bits=$rb,cluster_size=4096" "$DATA" && twins "rb$rb"
done
# 512-byte and 2 MiB clusters, v2
base cs512 40M "cluster_size=512" "$DATA" && twins cs512
base cs2m 40M "cluster_size=2M" "$DATA" && twins cs2m
base v2 40M "compat=0.10" "$DATA" 'write -z 3M 1M' && twins v2
# preallocated metadata: zero clusters with host space, written in place
base prealloc 40M "preallocation=metadata" 'write -P 0x61 4M 1M' && twins prealloc

# over 4 GiB: host offsets past 2^32 (preallocated metadata keeps the file
# sparse) and guest offsets past 2^32
base big 6G "preallocation=metadata" 'write -P 0x71 5G 1M' && twins big \
	"w:4*1024*M-3:10000 w:5*1024*M+100:M z:5*1024*M+2*M:3*M d:4*1024*M+M:M w:6*1024*M-1:1"

# backing chain: qcow2 <- qcow2 <- top
qemu-img create -q -f qcow2 "$T/chain0.qcow2" 40M
qemu-io -f qcow2 -c "$DATA" "$T/chain0.qcow2" >/dev/null
qemu-img create -q -f qcow2 -b chain0.qcow2 -F qcow2 "$T/chain1.qcow2" 40M
qemu-io -f qcow2 -c "$DATA2" "$T/chain1.qcow2" >/dev/null
cp "$T/chain0.qcow2" "$T/chain1.qcow2" "$T/e/"
cp "$T/chain0.qcow2" "$T/chain1.qcow2" "$T/q/"
qemu-img create -q -f qcow2 -b chain1.qcow2 -F qcow2 "$T/chain.base" 40M
qemu-io -f qcow2 -c 'write -P 0x81 6M 1M' "$T/chain.base" >/dev/null
twins chain
