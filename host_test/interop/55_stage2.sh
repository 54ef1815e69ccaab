#!/bin/sh
# host_test/interop/55_stage2.sh: the bootloader-sized example. The
# read-only stage 2 (kernel_shim/stage2.c, core built HDI_CONFIG_READONLY,
# zlib, no zstd) boots under qemu-system-i386, finds a payload in partition
# 1 of a qcow2 data disk that qemu-img compressed, and prints its CRC-32 on
# COM1; the host compares it with zlib's over the payload file. A zstd
# image must fail cleanly in that configuration. `make size` must meet the
# size targets (docs/performance.md).
. "$(dirname "$0")/../lib.sh"
need qemu-system-i386 qemu-img python3 "${CROSS_COMPILE:-i686-linux-gnu-}gcc" || exit 0
KB=$B/kernel

if ! out=$(make -C "$ROOT" --no-print-directory BUILD="$B" "$KB/stage2.bin" "$KB/boot.bin" 2>&1); then
	notok build-stage2 "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ')"
	exit 0
fi
ok build-stage2

# The boot disk: boot sector + the stage 2 in the active partition.
if ! out=$({ "$ED" "$T/boot.img" create 8M --format raw &&
	"$ED" "$T/boot.img" bootcode "$B/kernel/boot.bin" &&
	"$ED" "$T/boot.img" fdisk create PrimaryPartition 1M --type da &&
	"$ED" "$T/boot.img" partition 1 write "$B/kernel/stage2.bin"; } 2>&1); then
	notok stage2-boot-image "$(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
	exit 0
fi

# The payload: "HDIP", its length (LE32), then 3 MiB + 123 bytes, half
# compressible text, half random, so qemu-img compresses some clusters and
# leaves others.
python3 - "$T/payload" <<-'PY'
import os, struct, sys
n = 3 * 1024 * 1024 + 123
body = bytearray()
i = 0
while len(body) < n // 2:
    body += b"hdi stage 2 payload line %d\n" % i
    i += 1
body = bytes(body[:n // 2]) + os.urandom(n - n // 2)
open(sys.argv[1], "wb").write(b"HDIP" + struct.pack("<I", n) + body)
PY
want=$(python3 -c 'import sys, zlib; d = open(sys.argv[1], "rb").read()[8:]; print("%d crc32 %08x" % (len(d), zlib.crc32(d)))' "$T/payload")

# data disk: a raw disk partitioned by edqcow2, then compressed by qemu-img
if ! out=$({ "$ED" "$T/data.raw" create 16M --format raw &&
	"$ED" "$T/data.raw" fdisk create PrimaryPartition 8M &&
	"$ED" "$T/data.raw" partition 1 write "$T/payload" &&
	qemu-img convert -c -f raw -O qcow2 "$T/data.raw" "$T/data.qcow2" &&
	qemu-img convert -c -f raw -O qcow2 -o compression_type=zstd \
		"$T/data.raw" "$T/data-zstd.qcow2"; } 2>&1); then
	notok stage2-data-image "$(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
	exit 0
fi

# boot NAME DATA: the serial log in $T/NAME.log, QEMU's status in $rc
boot() {
	timeout 120 qemu-system-i386 -m 64 -display none -no-reboot -serial stdio \
		-drive file="$T/boot.img",format=raw,if=ide,index=0 \
		-drive file="$2",format=raw,if=ide,index=1 \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 > "$T/$1.log" 2>&1 < /dev/null
	rc=$?
}

boot zlib "$T/data.qcow2"
expect_eq stage2-exit-pass "$rc" 1
expect_eq stage2-payload-crc "$(grep -a -o 'HDI-STAGE2: payload .*' "$T/zlib.log" | tr -d '\r')" \
	"HDI-STAGE2: payload $want"
grep -aqx 'HDI-STAGE2: PASS' "$T/zlib.log" && ok stage2-pass ||
	notok stage2-pass "$(grep -a 'HDI-STAGE2' "$T/zlib.log" | tail -n 2 | tr '\n' ' ')"

# zstd is configured out: its compressed clusters are refused by name
boot zstd "$T/data-zstd.qcow2"
expect_eq stage2-zstd-exit-fail "$rc" 3
if grep -aq 'HDI-STAGE2: FAIL .*(zstd compressed clusters are not built in (HDI_CONFIG_ZSTD))' "$T/zstd.log"; then ok stage2-zstd-refused
else notok stage2-zstd-refused "$(grep -a 'HDI-STAGE2' "$T/zstd.log" | tail -n 2 | tr '\n' ' ')"; fi

# the size targets
if out=$(make -C "$ROOT" --no-print-directory BUILD="$B" size 2>&1); then ok size-targets
else notok size-targets "$(printf '%s' "$out" | grep -E 'MISSED|rror' | tr '\n' ' ')"; fi
