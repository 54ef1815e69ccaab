#!/bin/sh
# host_test/interop/50_demo.sh: the demo end to end. The boot image is built
# with edqcow2 alone (create, bootcode, fdisk create PrimaryPartition,
# partition 1 write) and booted with issue 5's QEMU command line against
# data disks that qemu-img made and qemu-io filled. The kernel's lines are
# checked against the host's CRC-32, then the disk against the protocol:
# qemu-img check clean, the pattern, the table (sfdisk), the boot code, and
# nothing else changed.
. "$(dirname "$0")/../lib.sh"
need qemu-system-i386 qemu-img qemu-io sfdisk python3 "${CROSS_COMPILE:-i686-linux-gnu-}gcc" || exit 0
PY="python3 $ROOT/host_test/interop/50_demo_check.py"
KB=$B/kernel

if ! out=$(make -C "$ROOT" --no-print-directory BUILD="$B" "$KB/kernel.bin" "$KB/boot.bin" 2>&1); then
	notok build-kernel "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ')"
	exit 0
fi
ok build-kernel

# nm: the kernel links no libgcc and needs none of its division helpers.
helpers=$(${CROSS_COMPILE:-i686-linux-gnu-}nm "$B/kernel/kernel.elf" |
	grep -E ' (__u?(div|mod)di3|__u?divmoddi4)$' || true)
expect_eq kernel-no-libgcc "$helpers" ""
# The documented recipe for linking core into another kernel works: the
# freestanding library, headers and pkg-config file land under PREFIX.
check porting-install-freestanding make -s -C "$ROOT" BUILD="$T/core-build" \
	CROSS_COMPILE="${CROSS_COMPILE:-i686-linux-gnu-}" PREFIX="$T/core" install-freestanding
fsname=$(basename "${CROSS_COMPILE:-i686-linux-gnu-}" -)
check porting-installed-files test -s "$T/core/lib/$fsname/libhdi.a" -a -s "$T/core/include/hdi/hdi.h" \
	-a -s "$T/core/lib/pkgconfig/hdi-$fsname.pc"
rm -rf "$T/core" "$T/core-build"

# The boot image, as `make demo` builds it.
BOOT=$T/hos-demo.qcow2
mkboot() {
	"$ED" "$BOOT" create 8M &&
	"$ED" "$BOOT" bootcode "$B/kernel/boot.bin" &&
	"$ED" "$BOOT" fdisk create PrimaryPartition 1M --type da &&
	"$ED" "$BOOT" partition 1 write "$B/kernel/kernel.bin"
}
if ! out=$(mkboot 2>&1); then
	notok demo-image "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
	exit 0
fi
ok demo-image
qcheck demo-image-check "$BOOT"

# boot DATA: issue 5's command line, a hung guest killed after 120 s.
# Sets rc (QEMU's exit status: 1 after PASS, 3 after FAIL) and lines (the
# protocol lines, and any HDI-BOOT line of the boot sector).
boot() {
	timeout 120 qemu-system-i386 -m 64 -display none -no-reboot -serial stdio \
		-drive file="$BOOT",format=qcow2,if=ide,index=0 \
		-drive file="$1",format=raw,if=ide,index=1 \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		< /dev/null > "$T/serial" 2>&1
	rc=$?
	lines=$(tr -d '\r' < "$T/serial" | grep -a '^HDI-')
}

head -c 16777216 /dev/urandom > "$T/rand"

# mk_io FILE CREATE_OPTS QEMU_IO_CMD...: a 16 MiB image from qemu-img,
# filled through qemu-io ($T/rand is random data).
mk_io() {
	f=$1 opts=$2
	shift 2
	qemu-img create -q -f qcow2 -o "$opts" "$f" 16M || return 1
	for c in "$@"; do
		qemu-io -f qcow2 -c "$c" "$f" > /dev/null || return 1
	done
}

# run_disk TAG PAD MAKER ARGS...: `MAKER FILE ARGS...` makes the data disk,
# which is then padded by PAD bytes of free file
# space (an IDE disk cannot grow, so new clusters must fit in the file as
# QEMU shows it), booted, and checked.
run_disk() {
	tag=$1 pad=$2 maker=$3
	shift 3
	d=$T/$tag.qcow2
	if ! out=$("$maker" "$d" "$@" 2>&1); then
		notok "demo-data-disk-$tag" "$(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
		return
	fi
	[ "$pad" -gt 0 ] && truncate -s "+$pad" "$d"
	qemu-img convert -f qcow2 -O raw "$d" "$T/pre.raw"
	vsize=$(qemu-img info --output=json "$d" | python3 -c 'import json,sys;print(json.load(sys.stdin)["virtual-size"])')
	want="HDI-DEMO: virtual-size $vsize
HDI-DEMO: crc32 0 1048576 $($PY crc "$T/pre.raw")
HDI-DEMO: PASS"
	boot "$d"
	expect_eq "demo-lines-$tag" "$lines" "$want"
	expect_eq "demo-exit-$tag" "$rc" 1
	qcheck "demo-qemu-img-check-$tag" "$d"
	if [ "$lines" = "$want" ]; then
		qemu-img convert -f qcow2 -O raw "$d" "$T/post.raw"
		$PY demo-verify "$tag" "$T/pre.raw" "$T/post.raw"
		if [ -n "${snap:-}" ]; then
			# The snapshot still reads as the disk did before the boot.
			qemu-img convert -f qcow2 -O raw -l "snapshot.name=$snap" "$d" "$T/snap.raw"
			check "demo-snapshot-kept-$tag" cmp -s "$T/pre.raw" "$T/snap.raw"
		fi
	fi
	rm -f "$d" "$T/pre.raw" "$T/post.raw" "$T/snap.raw"
}

# The three disks issue 5 names.
# v3, 64K clusters: all of the first 8 MiB allocated, so every kernel write
# overwrites clusters in place.
run_disk v3-64k 0 mk_io compat=1.1,cluster_size=65536 "write -s $T/rand 0 8M"
# v2, 4K clusters: only [0, 2 MiB) allocated, so the kernel allocates data
# clusters and an L2 table for [4 MiB, 5 MiB) in the padding.
run_disk v2-4k 4194304 mk_io compat=0.10,cluster_size=4096 "write -s $T/rand 0 2M"
# 512-byte clusters, 1-bit refcounts: allocation needs new refcount blocks.
run_disk c512-rb1 4194304 mk_io compat=1.1,cluster_size=512,refcount_bits=1 \
	"write -s $T/rand 0 1536K"

# More of what qemu-img makes.
# Extended L2, 64-bit refcounts, partial clusters (subcluster allocation).
run_disk extl2-rb64 4194304 mk_io \
	compat=1.1,cluster_size=65536,extended_l2=on,refcount_bits=64 \
	"write -s $T/rand 0 1M" "write -s $T/rand 4300000 100000"
# Compressed by qemu-img convert -c (zlib, or zstd: FILE [TYPE [CLUSTER]]):
# the CRC decompresses in the kernel, the pattern rewrites part of a
# compressed cluster.
mk_compressed() {
	head -c 6291456 "$T/rand" | base64 -w 0 | head -c 12582912 > "$T/comp.raw" &&
	truncate -s 16M "$T/comp.raw" &&
	qemu-img convert -c -f raw -O qcow2 \
		-o "cluster_size=${3:-2M},compression_type=${2:-zlib}" "$T/comp.raw" "$1" &&
	qemu-img check "$1" | grep -q '100.00% compressed clusters' && rm -f "$T/comp.raw"
}
run_disk c2m-compressed 8388608 mk_compressed
run_disk c2m-zstd 8388608 mk_compressed zstd
run_disk c64k-zstd 4194304 mk_compressed zstd 64k
# Lazy refcounts and an internal snapshot: every cluster is shared, so each
# kernel write copies on write; the snapshot must keep the old contents.
mk_snap() {
	mk_io "$1" compat=1.1,cluster_size=65536,lazy_refcounts=on "write -s $T/rand 0 8M" &&
	qemu-img snapshot -c before "$1"
}
snap=before run_disk snap-lazy 4194304 mk_snap
snap=

# A data disk that is not qcow2 gets a FAIL line and exit status 3.
head -c 8388608 /dev/zero > "$T/zero.raw"
boot "$T/zero.raw"
case $lines in
"HDI-DEMO: FAIL "*) expect_eq demo-fail-not-qcow2 "$rc" 3 ;;
*) notok demo-fail-not-qcow2 "got [$lines]" ;;
esac
