#!/bin/sh
# host_test/interop/50_demo_ata.sh: the boot sector and the ATA PIO driver
# under qemu-system-i386. The ATA test kernel (kernel_shim/ktest.c) is booted
# through INT 13h extensions and through the CHS fallback; it probes all four
# IDE positions and reads/writes the secondary master (8 MiB) and slave
# (200 GiB sparse, LBA48); the host checks every byte against the files.
. "$(dirname "$0")/../lib.sh"
need qemu-system-i386 python3 "${CROSS_COMPILE:-i686-linux-gnu-}gcc" || exit 0
PY="python3 $ROOT/host_test/interop/50_demo_check.py"
KB=$B/kernel

if ! out=$(make -C "$ROOT" --no-print-directory BUILD="$B" "$KB/ktest.bin" "$KB/boot.bin" \
		"$KB/boot-chs.bin" 2>&1); then
	notok build-ktest "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ')"
	exit 0
fi
ok build-ktest

# boot_ata NAME BOOTSECTOR
boot_ata() {
	n=$1 bs=$2
	d=$T/$n
	mkdir -p "$d"
	# The boot disk, raw this time, made with edqcow2 as make demo does.
	if ! out=$({ "$ED" "$d/boot.img" create 8M --format raw &&
		"$ED" "$d/boot.img" bootcode "$bs" &&
		"$ED" "$d/boot.img" fdisk create PrimaryPartition 1M --type da &&
		"$ED" "$d/boot.img" partition 1 write "$B/kernel/ktest.bin"; } 2>&1); then
		notok "ata-boot-image-$n" "$(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
		return
	fi
	head -c 8388608 /dev/urandom > "$d/d1.img"
	cp "$d/d1.img" "$d/d1.orig"
	python3 - "$d/d2.img" <<-'EOF'
	import os, sys
	size = 200 << 30
	b28 = 1 << 28
	with open(sys.argv[1], "wb") as f:
	    f.truncate(size)
	    for lba, n in ((0, 16), (b28 - 8, 16), (size // 512 - 3, 3)):
	        f.seek(lba * 512)
	        f.write(os.urandom(n * 512))
	EOF
	$PY ata-expect 1.0 "$d/d1.img" 0 300 1.1 "$d/d2.img" 268435448 16 \
		1.1 "$d/d2.img" end-3 3 > "$d/want"
	timeout 60 qemu-system-i386 -m 64 -display none -no-reboot -serial stdio \
		-drive file="$d/boot.img",format=raw,if=ide,index=0 \
		-drive file="$d/d1.img",format=raw,if=ide,index=2 \
		-drive file="$d/d2.img",format=raw,if=ide,index=3 \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 > "$d/log" 2>&1 < /dev/null
	rc=$?
	expect_eq "ata-exit-$n" "$rc" 1
	if grep -qx 'HDI-ATA: PASS' "$d/log"; then ok "ata-pass-$n"
	else notok "ata-pass-$n" "$(grep -E 'HDI-(ATA|BOOT)' "$d/log" | tail -n 2 | tr '\n' ' ')"; fi
	expect_eq "ata-probe-$n" "$(grep '^HDI-ATA: disk' "$d/log" | cut -d' ' -f3-6)" \
"0.0 sectors 16384 lba48
0.1 absent not found
1.0 sectors 16384 lba48
1.1 sectors 419430400 lba48"
	while read -r line; do
		if grep -qxF "$line" "$d/log"; then ok "ata-read-$n-$(echo "$line" | cut -d' ' -f3-4 | tr ' ' @)"
		else notok "ata-read-$n" "want [$line]"; fi
	done < "$d/want"
	grep -qx 'HDI-ATA: errors ok' "$d/log" && ok "ata-errors-$n" || notok "ata-errors-$n" "no 'errors ok'"
	grep -qx 'HDI-ATA: timeout ok' "$d/log" && ok "ata-timeout-$n" || notok "ata-timeout-$n" "no 'timeout ok'"
	grep -q '^HDI-ATA: trap: cpu exception 6 (error 0) at eip ' "$d/log" && ok "cpu-fault-reported-$n" ||
		notok "cpu-fault-reported-$n" "no line for the ud2 fault"
	$PY ata-verify "$n" "$d/log" 1.0 "$d/d1.img" "$d/d1.orig" 1.1 "$d/d2.img" -
	rm -rf "$d"
}

boot_ata ext "$B/kernel/boot.bin"
boot_ata chs "$B/kernel/boot-chs.bin"

# The boot sector's refusals: each prints its HDI-BOOT line and halts, so
# QEMU (started here, stopped by its PID) is killed once the line is out.
# boot_refuses NAME WANT FDISK_OPTS PAYLOAD [PARTITION_SIZE]
boot_refuses() {
	n=$1 want=$2 opts=$3 payload=$4 psize=${5:-1M}
	img=$T/refuse.img
	rm -f "$img" "$T/refuse.log"
	# shellcheck disable=SC2086
	if ! out=$({ "$ED" "$img" create 8M --format raw &&
		"$ED" "$img" bootcode "$B/kernel/boot.bin" &&
		"$ED" "$img" fdisk create PrimaryPartition "$psize" --type da $opts &&
		"$ED" "$img" partition 1 write "$payload"; } 2>&1); then
		notok "boot-refuses-$n" "image: $(printf '%s' "$out" | tail -n 1)"
		return
	fi
	qemu-system-i386 -m 64 -display none -no-reboot -serial stdio \
		-drive file="$img",format=raw,if=ide,index=0 \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		< /dev/null > "$T/refuse.log" 2> /dev/null &
	pid=$!
	i=0
	while [ $i -lt 150 ] && kill -0 "$pid" 2>/dev/null &&
		! grep -q 'HDI-BOOT: ' "$T/refuse.log"; do
		sleep 0.2
		i=$((i + 1))
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	expect_eq "boot-refuses-$n" "$(grep -a -o 'HDI-BOOT: .*' "$T/refuse.log")" "HDI-BOOT: $want"
}
make -C "$ROOT" --no-print-directory BUILD="$B" "$KB/kernel.bin" > /dev/null 2>&1
# The first 32 KiB of the demo kernel: its header asks for more sectors
# than the 32 KiB partition has.
head -c 32768 "$B/kernel/kernel.bin" > "$T/kernel-head.bin"
boot_refuses no-active "no active partition" --no-bootable "$B/kernel/ktest.bin"
boot_refuses no-header "bad kernel" "" "$B/kernel/boot.bin"
boot_refuses larger-than-partition "bad kernel" "" "$T/kernel-head.bin" 32K
