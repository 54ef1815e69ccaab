#!/bin/sh
# host_test/interop/25_qcow2_write_fresh.sh: images edqcow2 created with
# every create option get the same writes, zeroes, discards and resizes as
# a twin qemu-img created and qemu-io wrote; qemu-img check must pass on
# ours (no errors, no leaks) and qemu-img compare must find them equal.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/write_ops.inc"
need qemu-img qemu-io python3 || exit 0

K=1024 M=1048576
# A mix: unaligned and aligned writes, overwrites, zeroes and discards
# over partial and whole clusters, growth and a shrink over data.
OPS="w:0:100000 w:3*65536+17:5000 w:M:2*M p:M+512:7:0x5a z:M+4096:200000
d:2*M-65536:131072+300 w:5*M+511:1 w:8*M:64*K z:8*M:64*K d:0:8192
w:60*M:4*M-1 g:100*M w:90*M+3:70000 w:63*M:2*M z:61*M:3*M s:80*M
w:79*M:M d:M:M+5 g:90*M w:85*M:3*K"

# fresh NAME "edqcow2 create options" "qemu-img -o options" [backing]
fresh() {
	n=$1 eo=$2 qo=$3
	rm -f "$T/$n.e" "$T/$n.q"
	# shellcheck disable=SC2086
	if ! out=$("$ED" "$T/$n.e" create 64M $eo 2>&1); then notok "$n-create" "$out"; return; fi
	if ! out=$(qemu-img create -q -f qcow2 ${qo:+-o "$qo"} "$T/$n.q" 64M 2>&1); then
		notok "$n-twin" "$out"; return
	fi
	# shellcheck disable=SC2086
	ops_run "$n" "$T/$n.e" "$T/$n.q" $OPS
}

fresh default "" ""
fresh v2 "--compat 0.10" "compat=0.10"
fresh cs512 "--cluster-size 512" "cluster_size=512"
fresh cs4k "--cluster-size 4K" "cluster_size=4096"
fresh cs2m "--cluster-size 2M" "cluster_size=2M"
fresh v2-cs1k "--compat 0.10 --cluster-size 1K" "compat=0.10,cluster_size=1024"
for rb in 1 2 4 8 32 64; do
	fresh "rb$rb" "--refcount-bits $rb --cluster-size 4K" "refcount_bits=$rb,cluster_size=4096"
done
fresh rb64-512 "--refcount-bits 64 --cluster-size 512" "refcount_bits=64,cluster_size=512"
fresh lazy "--lazy-refcounts" "lazy_refcounts=on"
fresh extl2 "--extended-l2" "extended_l2=on"
fresh extl2-16k "--extended-l2 --cluster-size 16K" "extended_l2=on,cluster_size=16384"
fresh extl2-2m "--extended-l2 --cluster-size 2M" "extended_l2=on,cluster_size=2M"

# the lazy image was closed cleanly: no dirty bit left
d=$(qemu-img info --output=json "$T/lazy.e" | python3 -c 'import json,sys;print(json.load(sys.stdin)["dirty-flag"])')
expect_eq lazy-clean-after-close "$d" False

# backing files: raw and qcow2, shorter and longer than the overlay
qemu-img create -q -f raw "$T/base.raw" 80M
qemu-io -f raw -c 'write -q -P 0x33 0 80M' "$T/base.raw"
qemu-img create -q -f qcow2 "$T/base.qcow2" 50M
qemu-io -f qcow2 -c 'write -q -P 0x44 0 7M' -c 'write -q -P 0x45 40M 10M' "$T/base.qcow2"
backed() {
	n=$1 eo=$2 qo=$3 b=$4 bf=$5 ops=${6:-$OPS}
	rm -f "$T/$n.e" "$T/$n.q"
	# shellcheck disable=SC2086
	if ! out=$("$ED" "$T/$n.e" create 64M --backing "$b" --backing-format "$bf" $eo 2>&1); then
		notok "$n-create" "$out"; return
	fi
	qemu-img create -q -f qcow2 -b "$b" -F "$bf" ${qo:+-o "$qo"} "$T/$n.q" 64M
	# shellcheck disable=SC2086
	ops_run "$n" "$T/$n.e" "$T/$n.q" $ops
}
backed back-raw "" "" base.raw raw
backed back-qcow2 "" "" base.qcow2 qcow2
# qemu-img cannot grow a v2 overlay over a longer backing file (no zero
# flag); ours writes zeros there, checked by reading back below
backed back-v2 "--compat 0.10" "compat=0.10" base.raw raw \
	"w:0:100000 w:3*65536+17:5000 w:M:2*M z:M+4096:200000 d:2*M-65536:131072+300
	w:5*M+511:1 z:8*M:64*K d:0:8192 w:60*M:4*M-1 z:61*M:3*M d:M:M+5"
"$ED" "$T/back-v2.e" resize 70M >/dev/null 2>&1
out=$(qemu-io -f qcow2 -c 'read -P 0 64M 6M' "$T/back-v2.e" 2>&1)
case "$out" in *"read 6291456/6291456"*) ok back-v2-grow-reads-zero ;;
	*) notok back-v2-grow-reads-zero "$(echo "$out" | head -2 | tr '\n' ' ')" ;; esac
qcheck back-v2-grow-check "$T/back-v2.e"
backed back-extl2 "--extended-l2" "extended_l2=on" base.raw raw
backed back-cs512 "--cluster-size 512" "cluster_size=512" base.qcow2 qcow2

# the same with the kernel's minimum workspace (16 KiB: caches of a few
# slices, every table in pieces)
export EDQCOW2_WORKSPACE=16K
fresh ws16k-cs512 "--cluster-size 512" "cluster_size=512"
fresh ws16k-cs2m "--cluster-size 2M" "cluster_size=2M"
fresh ws16k-rb64-512 "--refcount-bits 64 --cluster-size 512" "refcount_bits=64,cluster_size=512"
fresh ws16k-extl2-2m "--extended-l2 --cluster-size 2M" "extended_l2=on,cluster_size=2M"
backed ws16k-back-qcow2 "" "" base.qcow2 qcow2
unset EDQCOW2_WORKSPACE
