#!/bin/sh
# host_test/interop/45_linux_partitions.sh: a real Linux kernel reads the
# partition tables edqcow2 writes, MBR (with logical partitions) and GPT. The Debian kernel (linux-image-amd64)
# boots under qemu-system-x86_64 with a busybox initramfs and the qcow2
# images as virtio disks; /proc/partitions must list exactly the partitions
# sfdisk reads from the same image, and payloads written with
# `partition N write` must read back in the guest.
. "$(dirname "$0")/../lib.sh"
need qemu-system-x86_64 qemu-img sfdisk cpio gzip sha256sum || exit 0
if ! ls /boot/vmlinuz-* >/dev/null 2>&1 || ! [ -x /bin/busybox ]; then
	if [ "${CI:-}" = true ]; then notok linux-kernel "need /boot/vmlinuz-* and /bin/busybox"
	else echo "skip linux-kernel: no kernel or busybox"; fi
	exit 0
fi
LX=$ROOT/host_test/linux
kernel=$(sh "$LX/mkinitrd.sh" "$T/initrd.gz" 2>"$T/mkinitrd.err") ||
	{ notok linux-initrd "$(tail -n 2 "$T/mkinitrd.err" | tr '\n' ' ')"; exit 0; }

# sectors FILE: a payload's size in 512-byte sectors, rounded up.
payload() { head -c "$2" /dev/urandom > "$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
# expect IMAGE DEV: the /proc/partitions lines ("NAME BLOCKS", sorted)
# Linux must show for IMAGE as DEV, from sfdisk's reading of its raw twin.
# An extended partition shows as one 1 KiB block, as Linux's msdos parser
# registers it.
expect() {
	qemu-img convert -O raw "$1" "$T/twin.raw"
	echo "$2 $(( $(stat -c %s "$T/twin.raw") / 1024 ))"
	sfdisk -d "$T/twin.raw" | sed -n 's/^.*[^0-9]\([0-9]*\) : start= *\([0-9]*\), size= *\([0-9]*\), type=\([0-9A-Za-z-]*\).*/\1 \3 \4/p' |
		while read -r n c t; do
			case $t in 5|f|85) echo "$2$n 1" ;; *) echo "$2$n $((c / 2))" ;; esac
		done
}
# boot DISKS SUMS: boots Linux with the images as vda, vdb, ...; the serial
# log is $T/console.txt and the partitions it saw $T/parts.txt.
boot() {
	drives= n=0
	for d in $1; do
		drives="$drives -drive file=$d,format=qcow2,if=virtio"
		n=$((n + 1))
	done
	# shellcheck disable=SC2086
	timeout 300 qemu-system-x86_64 -machine accel=tcg -cpu max -m 256 \
		-nographic -no-reboot -kernel "$kernel" -initrd "$T/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 hdi.disks=$n hdi.sum=$2" \
		$drives > "$T/console.txt" 2>&1 < /dev/null
	sed -n '/HDI-PARTITIONS-BEGIN/,/HDI-PARTITIONS-END/p' "$T/console.txt" |
		tr -d '\r' | awk '$4 ~ /^vd/ {print $4, $3}' | sort > "$T/parts.txt"
}
# seen NAME DEV WANT: the guest's lines for DEV are exactly WANT.
seen() {
	got=$(grep "^$2" "$T/parts.txt" | sort)
	expect_eq "$1" "$got" "$(printf '%s\n' "$3" | sort)"
}
# read_back NAME DEV PART FILE: the guest read FILE's bytes from DEV+PART.
read_back() {
	got=$(awk -v d="$2$3" '$1 == "HDI-SUM" && $2 == d {print $4}' "$T/console.txt" | tr -d '\r')
	expect_eq "$1" "$got" "$(sha "$4")"
}

# An MBR disk with a primary, an extended partition and three logical ones.
M=$T/mbr.qcow2
"$ED" "$M" create 64M >/dev/null
cat > "$T/mbr.sfdisk" <<SCRIPT
label: dos
label-id: 0x5eed0001
start=2048, size=20480, type=83, bootable
start=22528, type=5
${M}p5 : size=10240, type=83
${M}p6 : size=8192, type=82
${M}p7 : type=c
SCRIPT
check mbr-apply "$ED" "$M" fdisk apply "$T/mbr.sfdisk"
payload "$T/p1" 1048576; payload "$T/p5" 777777; payload "$T/p7" 3000000
check mbr-write-p1 "$ED" "$M" partition 1 write "$T/p1"
check mbr-write-p5 "$ED" "$M" partition 5 write "$T/p5"
check mbr-write-p7 "$ED" "$M" partition 7 write "$T/p7"
qcheck mbr-qemu-check "$M"
mbr_want=$(expect "$M" vda)
# The layout the script asks for, so a table that sfdisk and Linux both
# misread the same way still fails.
expect_eq mbr-layout "$mbr_want" "vda 65536
vda1 10240
vda2 1
vda5 5120
vda6 4096
vda7 41984"

# A GPT disk: the types users name, names, a partition to the end.
G=$T/gpt.qcow2
"$ED" "$G" create 96M >/dev/null
cat > "$T/gpt.sfdisk" <<SCRIPT
label: gpt
label-id: 5EED0002-0000-4000-8000-000000000001
start=2048, size=8192, type=U, name="EFI system"
size=20480, type=L, name=root
size=4096, type=S, name=swap
type=L, name=rest
SCRIPT
check gpt-apply "$ED" "$G" fdisk apply "$T/gpt.sfdisk"
payload "$T/g1" 2000000; payload "$T/g2" 5242880; payload "$T/g4" 123457
check gpt-write-p1 "$ED" "$G" partition 1 write "$T/g1"
check gpt-write-p2 "$ED" "$G" partition 2 write "$T/g2"
check gpt-write-p4 "$ED" "$G" partition 4 write "$T/g4"
qcheck gpt-qemu-check "$G"
gpt_want=$(expect "$G" vdb)
expect_eq gpt-layout "$gpt_want" "vdb 98304
vdb1 4096
vdb2 10240
vdb3 2048
vdb4 79872"

# One boot sees both disks: the MBR one as vda, the GPT one as vdb.
boot "$M $G" "vda1:1048576,vda5:777777,vda7:3000000,vdb1:2000000,vdb2:5242880,vdb4:123457"
grep -q HDI-DONE "$T/console.txt" || notok linux-boot "$(tail -n 5 "$T/console.txt" | tr '\n' ' ')"
seen linux-mbr-partitions vda "$mbr_want"
read_back linux-mbr-p1 vda 1 "$T/p1"
read_back linux-mbr-p5 vda 5 "$T/p5"
read_back linux-mbr-p7 vda 7 "$T/p7"
seen linux-gpt-partitions vdb "$gpt_want"
read_back linux-gpt-p1 vdb 1 "$T/g1"
read_back linux-gpt-p2 vdb 2 "$T/g2"
read_back linux-gpt-p4 vdb 4 "$T/g4"
