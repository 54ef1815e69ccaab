#!/bin/sh
# host_test/interop/48_build_uefi.sh: docs/examples/uefi-gpt.recipe, built
# by its Makefile without root (mkfs.fat and mcopy, mke2fs -d, edqcow2
# build), is a disk that other tools and a real UEFI firmware accept:
# sgdisk -v, fsck.fat and e2fsck on the partitions' bytes, mtools reading
# the ESP in place; then OVMF boots it: the firmware reads the GPT and the
# FAT, its shell runs startup.nsh, which starts the Linux kernel (an EFI
# application) from the ESP, and the kernel's initramfs prints the
# partitions it sees and the SHA-256 of the root partition's first MiB.
. "$(dirname "$0")/../lib.sh"
need qemu-system-x86_64 qemu-img sgdisk mkfs.fat mcopy mdir fsck.fat mke2fs e2fsck sha256sum || exit 0
OVMF=/usr/share/OVMF/OVMF_CODE_4M.fd
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
if ! [ -e $OVMF ] || ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then notok uefi-firmware "need $OVMF (ovmf) and /boot/vmlinuz-*"
	else echo "skip uefi-firmware: no OVMF or kernel"; fi
	exit 0
fi
O=$T/ex
if make -s -C "$ROOT/docs/examples" ED="$ED" O="$O" >"$T/make.txt" 2>&1; then ok uefi-example-make
else notok uefi-example-make "$(tail -n 3 "$T/make.txt" | tr '\n' ' ')"; exit 0; fi
IMG=$O/uefi-gpt.qcow2
qcheck uefi-qemu-check "$IMG"
qemu-img convert -O raw "$IMG" "$T/disk.raw"
sgdisk -v "$T/disk.raw" > "$T/out" 2>&1
grep -q 'No problems found' "$T/out" && ok uefi-sgdisk-v || notok uefi-sgdisk-v "$(head -n 3 "$T/out" | tr '\n' ' ')"
# part N: start and size (sectors) from sfdisk's reading of the raw twin
part() { sfdisk -d "$T/disk.raw" | sed -n "s/^.*[^0-9]$1 : start= *\([0-9]*\), size= *\([0-9]*\).*/\1 \2/p"; }
set -- $(part 1); s1=$1 n1=$2
set -- $(part 2); s2=$1 n2=$2
dd if="$T/disk.raw" of="$T/esp.img" bs=512 skip="$s1" count="$n1" status=none
dd if="$T/disk.raw" of="$T/root.img" bs=512 skip="$s2" count="$n2" status=none
check uefi-esp-fsck fsck.fat -n "$T/esp.img"
check uefi-root-e2fsck e2fsck -fn "$T/root.img"
mdir -i "$T/disk.raw@@$((s1 * 512))" ::/ > "$T/dir.txt" 2>&1
grep -q vmlinuz "$T/dir.txt" && grep -qi 'startup *nsh' "$T/dir.txt" && ok uefi-mtools-in-place ||
	notok uefi-mtools-in-place "$(head -n 5 "$T/dir.txt" | tr '\n' ' ')"
cmp -s "$T/esp.img" "$O/esp.img" && ok uefi-esp-bytes || notok uefi-esp-bytes "ESP differs from esp.img"

cp "$VARS" "$T/vars.fd"
timeout 400 qemu-system-x86_64 -machine q35,accel=tcg -cpu max -m 512 -nographic \
	-no-reboot -drive if=pflash,format=raw,readonly=on,file=$OVMF \
	-drive if=pflash,format=raw,file="$T/vars.fd" \
	-drive file="$IMG",format=qcow2,if=virtio -net none \
	> "$T/console.txt" 2>&1 < /dev/null
tr -d '\r' < "$T/console.txt" > "$T/c.txt"
grep -q '^HDI-EFI-SHELL' "$T/c.txt" && ok uefi-shell-ran-startup-nsh ||
	notok uefi-shell-ran-startup-nsh "$(tail -c 300 "$T/c.txt" | tr -d '\033' | tr '\n' ' ')"
got=$(sed -n '/HDI-PARTITIONS-BEGIN/,/HDI-PARTITIONS-END/p' "$T/c.txt" | awk '$4 ~ /^vda/ {print $4, $3}')
expect_eq uefi-linux-partitions "$got" "vda $(( $(stat -c %s "$T/disk.raw") / 1024 ))
vda1 $((n1 / 2))
vda2 $((n2 / 2))"
want=$(head -c 1048576 "$O/root.ext4" | sha256sum | cut -d' ' -f1)
got=$(awk '$1 == "HDI-SUM" && $2 == "vda2" {print $4}' "$T/c.txt")
expect_eq uefi-linux-reads-root "$got" "$want"
