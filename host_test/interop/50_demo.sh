#!/bin/sh
# host_test/interop/50_demo.sh: the demo end to end. The boot image is built
# with edqcow2 alone (create, bootcode, fdisk create PrimaryPartition,
# partition 1 write) and booted with issue 5's QEMU command line against
# data disks that qemu-img made and qemu-io filled. The kernel's lines are
# checked against the host's CRC-32, then the disk against the protocol:
# qemu-img check clean, the pattern, the table (sfdisk), the boot code, and
# nothing else changed.
. "$(dirname "$0")/../lib.sh"
need qemu-system-i386 qemu-img qemu-io sfdisk python3 || exit 0
PY="python3 $ROOT/host_test/interop/50_demo_check.py"
KB=${BUILD:-build}/kernel

if ! out=$(make -C "$ROOT" --no-print-directory "$KB/kernel.bin" "$KB/boot.bin" 2>&1); then
	notok build-kernel "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ')"
	exit 0
fi
ok build-kernel

# nm: the kernel links no libgcc and needs none of its division helpers.
helpers=$(${CROSS_COMPILE:-i686-linux-gnu-}nm "$B/kernel/kernel.elf" |
	grep -E ' (__u?(div|mod)di3|__u?divmoddi4)$' || true)
expect_eq kernel-no-libgcc "$helpers" ""
# The documented recipe for linking core into another kernel works.
check porting-build-core sh "$ROOT/linker/build-core.sh" "$T/core"
rm -rf "$T/core"

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

# run_disk TAG CREATE_OPTS QEMU_IO_CMDS PAD: a data disk, filled, then
# padded by PAD bytes of free file space (an IDE disk cannot grow, so new
# clusters must fit in the file as QEMU sees it).
run_disk() {
	tag=$1 opts=$2 io=$3 pad=$4
	d=$T/$tag.qcow2
	qemu-img create -q -f qcow2 -o "$opts" "$d" 16M
	head -c 16777216 /dev/urandom > "$T/rand"
	qemu-io -f qcow2 -c "$io" "$d" > /dev/null
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
	fi
	rm -f "$d" "$T/pre.raw" "$T/post.raw"
}

# v3, 64K clusters: all of the first 8 MiB allocated, so every kernel write
# overwrites clusters in place.
run_disk v3-64k compat=1.1,cluster_size=65536 \
	"write -s $T/rand 0 8M" 0
# v2, 4K clusters: [4 MiB, 5 MiB) half allocated, so the kernel allocates
# data clusters and L2 entries in the padding.
run_disk v2-4k compat=0.10,cluster_size=4096 \
	"write -s $T/rand 0 2M" 4194304
# 512-byte clusters, 1-bit refcounts: allocation needs new refcount blocks.
run_disk c512-rb1 compat=1.1,cluster_size=512,refcount_bits=1 \
	"write -s $T/rand 0 1536K" 4194304

# A data disk that is not qcow2 gets a FAIL line and exit status 3.
head -c 8388608 /dev/zero > "$T/zero.raw"
boot "$T/zero.raw"
case $lines in
"HDI-DEMO: FAIL "*) expect_eq demo-fail-not-qcow2 "$rc" 3 ;;
*) notok demo-fail-not-qcow2 "got [$lines]" ;;
esac
