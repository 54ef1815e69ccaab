#!/bin/sh
# host_test/interop/51_gpt_kernel.sh: GPT in the freestanding core, in a
# kernel. The GPT test kernel (kernel_shim/kgpt.c) boots under
# qemu-system-i386 from a disk edqcow2 made, reads the GPT of the data disk
# (a qcow2 that edqcow2 partitioned, parsed by the kernel; then a raw copy
# with a damaged primary header) and prints every partition with a CRC-32
# of its first 64 KiB read through the partition's window. The host checks
# the list against sfdisk -d of the same disk and the CRCs against the
# bytes qemu-img converts out.
. "$(dirname "$0")/../lib.sh"
need qemu-system-i386 qemu-img sfdisk python3 "${CROSS_COMPILE:-i686-linux-gnu-}gcc" || exit 0
KB=$B/kernel

if ! out=$(make -C "$ROOT" --no-print-directory BUILD="$B" "$KB/kgpt.bin" "$KB/boot.bin" 2>&1); then
	notok build-kgpt "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ')"
	exit 0
fi
ok build-kgpt

BOOT=$T/boot.img
if ! out=$({ "$ED" "$BOOT" create 8M --format raw &&
	"$ED" "$BOOT" bootcode "$B/kernel/boot.bin" &&
	"$ED" "$BOOT" fdisk create PrimaryPartition 1M --type da &&
	"$ED" "$BOOT" partition 1 write "$B/kernel/kgpt.bin"; } 2>&1); then
	notok kgpt-boot-image "$(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
	exit 0
fi

# The data disk: a qcow2 partitioned by edqcow2, payloads in two partitions.
D=$T/data.qcow2
head -c 200000 /dev/urandom >"$T/p1"
head -c 70000 /dev/urandom >"$T/p3"
if ! out=$({ "$ED" "$D" create 64M &&
	printf 'label: gpt\nlabel-id: 6B1D0000-1111-4222-8333-444455556666\nsize=8M, type=U, name="EFI system"\nsize=1M, type=21686148-6449-6E6F-744E-656564454649\nx4 : size=20M, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root \\xc3\\xa9", attrs="RequiredPartition GUID:60"\n,,H\n' |
		"$ED" "$D" fdisk apply - --seed 5 &&
	"$ED" "$D" partition 1 write "$T/p1" &&
	"$ED" "$D" partition 4 write "$T/p3" --offset 512; } 2>&1); then
	notok kgpt-data-image "$(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
	exit 0
fi

# want RAW: the lines the kernel must print for a disk whose bytes are RAW.
want() {
	python3 - "$1" <<'PY'
import re, subprocess, sys, zlib
raw = sys.argv[1]
d = subprocess.run(['sfdisk', '-d', raw], capture_output=True, text=True, check=True).stdout
hdr = dict(re.findall(r'^([a-z-]+): (.*)$', d, re.M))
print("HDI-GPT: disk %s first %s last %s entries %s" % (hdr['label-id'], hdr['first-lba'],
      hdr['last-lba'], hdr.get('table-length', '128')))
data = open(raw, 'rb').read()
for m in re.finditer(r'^\S*?(\d+) : start=\s*(\d+), size=\s*(\d+), type=([0-9A-F-]+), uuid=([0-9A-F-]+)(.*)$', d, re.M):
    n, start, size, ty, uu, rest = m.groups()
    name = re.search(r'name="([^"]*)"', rest)
    name = name.group(1) if name else ''
    name = re.sub(r'\\x([0-9a-f]{2})', lambda x: chr(int(x.group(1), 16)), name)
    name = name.encode('latin-1').decode('utf-8')
    attrs = 0
    a = re.search(r'attrs="([^"]*)"', rest)
    if a:
        for tok in re.split(r'[ ,]+', a.group(1).replace('GUID:', ' ')):
            attrs |= {'RequiredPartition': 1, 'NoBlockIOProtocol': 2, 'LegacyBIOSBootable': 4}.get(tok, 0)
            if tok.isdigit(): attrs |= 1 << int(tok)
    print('HDI-GPT: part %s start %s size %s type %s uuid %s attrs %x name "%s"' % (n, start, size, ty, uu, attrs, name))
    k = min(int(size) * 512, 65536)
    off = int(start) * 512
    print('HDI-GPT: crc %s %d %08x' % (n, k, zlib.crc32(data[off:off + k]) & 0xffffffff))
PY
}

# boot DATA FORMATLINE WANTSTATUS NAME
boot() {
	timeout 120 qemu-system-i386 -m 64 -display none -no-reboot -serial stdio \
		-drive file="$BOOT",format=raw,if=ide,index=0 \
		-drive file="$1",format=raw,if=ide,index=1 \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null >"$T/serial" 2>&1
	rc=$?
	got=$(tr -d '\r' <"$T/serial" | grep -a '^HDI-GPT: ' | sed 's/ status [0-9a-f]*$//')
	expect_eq "kgpt-exit-$4" "$rc" 1
	expect_eq "kgpt-list-$4" "$got" "$2
$(want "$T/ref.raw")
HDI-GPT: PASS"
	expect_eq "kgpt-status-$4" "$(tr -d '\r' <"$T/serial" | sed -n 's/^HDI-GPT: disk .* status \([0-9a-f]*\)$/\1/p')" "$3"
}

qemu-img convert -f qcow2 -O raw "$D" "$T/ref.raw"
boot "$D" "HDI-GPT: qcow2" 0 qcow2
# A damaged primary header: the kernel reads the backup (status 110:
# primary header bad, backup used).
cp "$T/ref.raw" "$T/dmg.raw"
printf 'XX' | dd of="$T/dmg.raw" bs=1 seek=$((512 + 60)) conv=notrunc 2>/dev/null
boot "$T/dmg.raw" "HDI-GPT: raw" 110 damaged-primary
