#!/bin/sh
# host_test/interop/71_bigendian.sh: the big-endian build (s390x, static,
# under qemu-user): every unit test, and edqcow2 judged by the native tools:
# qemu-made images (zlib and zstd clusters, zeroes, a snapshot) read
# byte-identically, an image it creates and partitions passes qemu-img check
# and sfdisk, and is byte-identical to what the little-endian build makes.
. "$(dirname "$0")/../lib.sh"
need s390x-linux-gnu-gcc qemu-s390x qemu-img qemu-io sfdisk cmp || exit 0
if out=$(make -s -C "$ROOT" BUILD="${BUILD:-build}" s390x 2>&1); then
	ok be.build
else
	notok be.build "$(printf '%s' "$out" | grep -m3 -E 'error|undefined' | tr '\n' ' ')"
	exit 0
fi
BE="qemu-s390x $B/s390x/edqcow2"
# the unit tests, each reported under be.
qemu-s390x "$B/s390x/unit_tests" > "$T/unit.txt" 2>&1
rc=$?
sed -n 's/^\(not \)\{0,1\}ok unit\./&/p' "$T/unit.txt" | sed 's/ok unit\./ok be.unit./'
[ $rc -eq 0 ] || notok be.unit-exit "unit_tests exited with $rc"
cd "$T" || exit 1
# reading: qemu-img's images, converted to raw by both sides
for ct in zlib zstd; do
	qemu-img create -q -f qcow2 -o compression_type=$ct,cluster_size=64k r-$ct.qcow2 16M
	qemu-io -f qcow2 -c "write -P 0x11 0 1M" -c "write -c -P 0x22 2M 256k" \
		-c "write -z 4M 64k" -c "write -P 0x33 5M 7k" r-$ct.qcow2 >/dev/null
	qemu-img snapshot -c s1 r-$ct.qcow2
	qemu-io -f qcow2 -c "write -P 0x44 0 64k" r-$ct.qcow2 >/dev/null
	qemu-img convert -O raw r-$ct.qcow2 want.raw
	$BE r-$ct.qcow2 convert got.raw -O raw >/dev/null 2>&1
	check be.read-$ct cmp want.raw got.raw
	qemu-img convert -l snapshot.name=s1 -O raw r-$ct.qcow2 want.raw
	$BE r-$ct.qcow2 convert got.raw -O raw --snapshot s1 >/dev/null 2>&1
	check be.read-$ct-snapshot cmp want.raw got.raw
	rm -f want.raw got.raw
done
# writing: create and partition, judged by qemu-img and sfdisk
$BE be.qcow2 create 64M >/dev/null 2>&1 &&
	$BE be.qcow2 fdisk create PrimaryPartition 16M >/dev/null 2>&1 &&
	$BE be.qcow2 fdisk create PrimaryPartition 8M --type 83 >/dev/null 2>&1
qcheck be.create.qemu-img-check be.qcow2
qemu-img convert -O raw be.qcow2 be.raw
sf=$(sfdisk -d be.raw 2>/dev/null | grep -c -e 'size=       32768, type=e' -e 'size=       16384, type=83')
expect_eq be.create.sfdisk "$sf" 2
"$ED" le.qcow2 create 64M >/dev/null 2>&1 &&
	"$ED" le.qcow2 fdisk create PrimaryPartition 16M >/dev/null 2>&1 &&
	"$ED" le.qcow2 fdisk create PrimaryPartition 8M --type 83 >/dev/null 2>&1
check be.create.same-as-little-endian cmp be.qcow2 le.qcow2
# a write through the big-endian build, read back by qemu-img
head -c 100000 /dev/urandom > payload
$BE be.qcow2 partition 2 write payload >/dev/null 2>&1
start=$(sfdisk -d be.raw | awk -F'[=,]' '/size=       16384/{gsub(/ /,"",$2); print $2}')
qemu-img convert -O raw be.qcow2 be.raw
check be.partition-write cmp -n 100000 -i "$((start * 512)):0" be.raw payload
