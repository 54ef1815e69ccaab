#!/bin/sh
# host_test/interop/76_qimg_compare.sh: `edqcow2 compare` against
# `qemu-img compare` on the same pairs: same lines on stdout, same exit
# status (0 identical, 1 different, 2+ error), -s included.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io || exit 0
cd "$T" || exit 1
io() { f=$1; shift; for c in "$@"; do set -- "$@" -c "$c"; shift; done; qemu-io "$@" "$f" >/dev/null; }
mk() { qemu-img create -q -f qcow2 "$@"; }

mk a.qcow2 16M; io a.qcow2 'write -P 1 0 64k' 'write -P 3 1M 4k'
mk b.qcow2 16M; io b.qcow2 'write -P 1 0 64k' 'write -P 2 5000 1' 'write -P 3 1M 4k'
mk z.qcow2 16M
mk d.qcow2 16M; io d.qcow2 'write -P 3 3M 4k' 'write -P 0 3M 700'
mk big.qcow2 20M; io big.qcow2 'write -P 5 17M 4k' 'write -P 0 17M 1000'
mk big0.qcow2 20M
mk zw.qcow2 16M; io zw.qcow2 'write -z 0 64k'
mk zd.qcow2 16M; io zd.qcow2 'write -P 0 0 64k'
mk -o cluster_size=4096 cs.qcow2 16M
mk -b a.qcow2 -F qcow2 ov.qcow2; io ov.qcow2 'write -P 9 2M 512'
mk -b a.qcow2 -F qcow2 ov0.qcow2
qemu-img convert -O raw a.qcow2 a.raw
mk -b a.raw -F raw ovr.qcow2
truncate -s 16M r1
truncate -s 1000 odd.raw; truncate -s 1024 odd2.raw
printf x | dd of=odd2.raw bs=1 seek=1010 conv=notrunc 2>/dev/null
truncate -s 64k h.raw
mk zc.qcow2 64k; io zc.qcow2 'write -z 0 64k'
mk za.qcow2 64k; io za.qcow2 'write -P 1 0 64k' 'write -z 0 64k'
mk -o compat=0.10 v2.qcow2 16M; io v2.qcow2 'write -P 1 0 64k' 'write -P 3 1M 4k'
mk -o cluster_size=16k,extended_l2=on x.qcow2 16M; io x.qcow2 'write -P 1 0 64k' 'write -P 3 1M 4k'
qemu-img convert -c -O qcow2 a.qcow2 comp.qcow2
qemu-img create -q -f qcow2 -o preallocation=metadata pm.qcow2 16M
qemu-io -c 'write -P 1 0 64k' -c 'write -P 3 1M 4k' pm.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o preallocation=metadata pm2.qcow2 16M
qemu-img create -q -f qcow2 -o preallocation=falloc pf.qcow2 16M
# past 2 and 4 GiB: offsets and sizes that need more than 32 bits
mk g3.qcow2 3G; io g3.qcow2 'write -P 7 2147487744 4k' 'write -P 8 3221221376 4k'
mk g5.qcow2 5G; io g5.qcow2 'write -P 7 2147487744 4k' 'write -P 8 3221221376 4k'
cp g5.qcow2 g5d.qcow2; io g5d.qcow2 'write -P 9 4294967808 1'
cp g3.qcow2 g3x.qcow2; io g3x.qcow2 'write -P 6 2147487844 1'

same() {
	n=$1; shift
	e=$("$ED" compare "$@" 2>/dev/null; echo "rc=$?")
	q=$(qemu-img compare "$@" 2>/dev/null; echo "rc=$?")
	expect_eq "compare-$n" "$e" "$q"
}
for s in "" -s; do
	same "data$s" $s a.qcow2 b.qcow2
	same "empty-vs-data$s" $s z.qcow2 a.qcow2
	same "unalloc-vs-zeroes$s" $s z.qcow2 d.qcow2
	same "zeroes-vs-unalloc$s" $s d.qcow2 z.qcow2
	same "size-tail$s" $s z.qcow2 big.qcow2
	same "size-tail-rev$s" $s big.qcow2 z.qcow2
	same "size-zero-tail$s" $s z.qcow2 big0.qcow2
	same "raw$s" $s a.qcow2 a.raw
	same "zero-flag$s" $s z.qcow2 zw.qcow2
	same "zero-data$s" $s zd.qcow2 zw.qcow2
	same "cluster-sizes$s" $s cs.qcow2 z.qcow2
	same "backing$s" $s ov0.qcow2 a.qcow2
	same "backing-diff$s" $s ov.qcow2 a.qcow2
	same "backing-raw$s" $s ovr.qcow2 a.qcow2
	same "backing-other$s" $s ov0.qcow2 b.qcow2
	same "sparse-raw$s" $s r1 z.qcow2
	same "odd-raw$s" $s odd.raw odd2.raw
	same "hole-vs-zero-plain$s" $s h.raw zc.qcow2
	same "hole-vs-zero-alloc$s" $s h.raw za.qcow2
	same "v2$s" $s v2.qcow2 a.qcow2
	same "extl2$s" $s x.qcow2 a.qcow2
	same "compressed$s" $s comp.qcow2 a.qcow2
	same "self$s" $s a.qcow2 a.qcow2
	same "prealloc-data$s" $s pm.qcow2 a.qcow2
	same "prealloc-empty$s" $s pm2.qcow2 z.qcow2
	same "prealloc-falloc$s" $s pm2.qcow2 pf.qcow2
	same "big-3g-5g$s" $s g3.qcow2 g5.qcow2
	same "big-5g-3g$s" $s g5.qcow2 g3.qcow2
	same "big-tail-past-4g$s" $s g3.qcow2 g5d.qcow2
	same "big-tail-past-4g-rev$s" $s g5d.qcow2 g3.qcow2
	same "big-past-2g$s" $s g3.qcow2 g3x.qcow2
done
same quiet -q a.qcow2 b.qcow2
# qemu-img's word order and ours agree
expect_eq compare-seed-order "$("$ED" a.qcow2 compare b.qcow2; echo $?)" "$("$ED" compare a.qcow2 b.qcow2; echo $?)"
# errors: 2 and up, never 1 (which means "different")
rc() { "$@" >/dev/null 2>&1; echo $?; }
expect_eq compare-missing "$(rc "$ED" compare a.qcow2 nonexist)" 2
expect_eq compare-one-image "$(rc "$ED" compare a.qcow2)" 2
expect_eq compare-bad-F "$(rc "$ED" compare -F raw a.qcow2 b.qcow2)" 2
expect_eq compare-bad-f "$(rc "$ED" compare -f raw a.qcow2 b.qcow2)" 2
