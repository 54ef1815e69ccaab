#!/bin/sh
# host_test/interop/77_qimg_measure.sh: `edqcow2 measure` prints exactly
# what `qemu-img measure` prints (human and JSON, exit status) over a
# matrix of sizes, cluster sizes, refcount widths, extended L2, compat,
# preallocation, and over real input images (raw, qcow2, chains,
# compressed, zero clusters, bitmaps).
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io || exit 0
cd "$T" || exit 1

same() {
	n=$1; shift
	e=$("$ED" measure "$@" 2>/dev/null; echo "rc=$?")
	q=$(qemu-img measure "$@" 2>/dev/null; echo "rc=$?")
	expect_eq "measure-$n" "$e" "$q"
}
# the size matrix (one line per combination keeps the output short)
bad=""
count=0
for size in 0 1 512 65535 1M 1.5G 100G 3T; do
	for cs in 512 4k 64k 2M; do
		for rb in 1 16 64; do
			for xl in off on; do
				[ "$xl" = on ] && [ "$cs" != 64k ] && [ "$cs" != 2M ] && continue
				o="cluster_size=$cs,refcount_bits=$rb,extended_l2=$xl"
				e=$("$ED" measure -O qcow2 -o "$o" --size "$size" --output=json 2>/dev/null; echo "rc=$?")
				q=$(qemu-img measure -O qcow2 -o "$o" --size "$size" --output=json 2>/dev/null; echo "rc=$?")
				count=$((count + 1))
				[ "$e" = "$q" ] || bad="$bad [$size $o: $e vs $q]"
			done
		done
	done
done
if [ -z "$bad" ]; then ok "measure-matrix-$count"; else notok measure-matrix "$bad"; fi

same raw-size --size 1G
same raw-odd --size 1000
same json --size 1G -O qcow2 --output=json
same compat010 -O qcow2 -o compat=0.10 --size 10G
same prealloc-metadata -O qcow2 -o preallocation=metadata --size 10G
same prealloc-full -O qcow2 -o preallocation=full --size 10G
same prealloc-falloc -O qcow2 -o preallocation=falloc,cluster_size=4k --size 3G
same too-large -O qcow2 -o cluster_size=512 --size 1T
same backing-size -O qcow2 -o backing_file=x.qcow2 --size 1G

# input images
qemu-img create -q -f qcow2 a.qcow2 64M
qemu-io -c 'write -P 1 0 64k' -c 'write -P 2 1M 4k' -c 'write -P 3 10M 3M' \
	-c 'write -z 20M 1M' -c 'write -P 4 33M 1' a.qcow2 >/dev/null
qemu-img convert -O raw a.qcow2 a.raw
qemu-img convert -c -O qcow2 a.qcow2 comp.qcow2
qemu-img create -q -f qcow2 -b a.qcow2 -F qcow2 ov.qcow2
qemu-io -c 'write -P 5 40M 128k' ov.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b a.raw -F raw ovr.qcow2
qemu-img create -q -f qcow2 -o cluster_size=4k,compat=0.10 v2.qcow2 8M
qemu-io -c 'write -P 6 4k 12k' v2.qcow2 >/dev/null
qemu-img create -q -f qcow2 bm.qcow2 64M
qemu-img bitmap --add bm.qcow2 b1
qemu-img bitmap --add -g 4k bm.qcow2 a-longer-bitmap-name
qemu-img create -q -f qcow2 -o cluster_size=16k,extended_l2=on xl.qcow2 8M
qemu-io -c 'write -P 7 2k 2k' xl.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o preallocation=metadata pm.qcow2 16M
qemu-io -c 'write -P 1 1M 64k' pm.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o preallocation=metadata pm2.qcow2 16M
qemu-img create -q -f qcow2 -o preallocation=falloc pf.qcow2 16M
for img in a.qcow2 a.raw comp.qcow2 ov.qcow2 ovr.qcow2 v2.qcow2 bm.qcow2 xl.qcow2 \
	   pm.qcow2 pm2.qcow2 pf.qcow2; do
	same "in-$img" -O qcow2 "$img"
	same "in-$img-json" -O qcow2 --output=json "$img"
	same "in-$img-4k" -O qcow2 -o cluster_size=4k "$img"
	same "in-$img-2M-rb8" -O qcow2 -o cluster_size=2M,refcount_bits=8 "$img"
	same "in-$img-raw" "$img"
done
same in-backing-opt -O qcow2 -o backing_file=a.qcow2 ov.qcow2
same in-compat -O qcow2 -o compat=0.10 bm.qcow2
same in-full -O qcow2 -o preallocation=full a.qcow2
same in-f -f qcow2 -O qcow2 a.qcow2
# our word order gives the same
expect_eq measure-seed-order "$("$ED" a.qcow2 measure -O qcow2)" "$("$ED" measure -O qcow2 a.qcow2)"
# refusals
rc() { "$@" >/dev/null 2>&1; echo $?; }
expect_eq measure-both "$(rc "$ED" measure --size 1G a.qcow2)" 1
expect_eq measure-neither "$(rc "$ED" measure -O qcow2)" 1
expect_eq measure-bad-fmt "$(rc "$ED" measure -O vmdk --size 1G)" 1
expect_eq measure-bad-size "$(rc "$ED" measure --size 1.5)" 1
expect_eq measure-raw-opts "$(rc "$ED" measure -o cluster_size=4k --size 1G)" 1
