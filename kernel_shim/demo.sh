#!/bin/sh
# kernel_shim/demo.sh: `make demo`. Builds build/hos-demo.qcow2 from
# kernel_shim/hos-demo.recipe with edqcow2 alone (no root, no loop device,
# no dd), makes the data disk build/demo-data.qcow2, boots both under
# qemu-system-i386 with the demo's fixed command line, and checks what the
# kernel printed against the host.
# Expects edqcow2 and the kernel built (the demo target does that).
set -u
B=${BUILD:-build}
ED=$B/edqcow2
K=$B/kernel
IMG=$B/hos-demo.qcow2
DATA=$B/demo-data.qcow2
SEED=$B/demo-data.seed
LOG=$B/demo-serial.log

say() { printf '\ndemo: %s\n' "$*"; }
run() {
	echo "  \$ $*"
	"$@" || { echo "demo: FAILED: $*" >&2; exit 1; }
}

for f in "$ED" "$K/boot.bin" "$K/kernel.bin"; do
	[ -e "$f" ] || { echo "demo: $f missing (run: make demo)" >&2; exit 1; }
done
rm -f "$IMG" "$DATA" "$SEED" "$LOG"

say "1. the bootable image, with edqcow2 alone, from one recipe"
# kernel_shim/hos-demo.recipe: 8 MiB qcow2, the boot sector as MBR boot
# code, the kernel in an active partition of type da ("Non-FS data").
# Recipe paths are relative to the recipe's directory: pass an absolute one.
run "$ED" "$IMG" build kernel_shim/hos-demo.recipe --define KERNEL="$(cd "$K" && pwd)"
run "$ED" "$IMG" fdisk list

say "2. the data disk: 16 MiB virtual, its first 8 MiB random"
# All of [0, 8 MiB) is allocated, so the kernel's writes (the pattern at
# 4 MiB, the table in sector 0) land in existing clusters: the guest sees
# the qcow2 file as a fixed-size IDE disk that cannot grow.
head -c 8388608 /dev/urandom > "$SEED"
run "$ED" "$DATA" create 16M
run "$ED" "$DATA" write 0 "$SEED"
want=$(head -c 1048576 "$SEED" | python3 -c \
	'import sys, zlib; print("%08x" % zlib.crc32(sys.stdin.buffer.read()))')
echo "  host: crc32 of the first MiB is $want"

say "3. boot (serial console follows)"
set -- qemu-system-i386 -m 64 -display none -no-reboot -serial stdio \
	-drive file="$IMG",format=qcow2,if=ide,index=0 \
	-drive file="$DATA",format=raw,if=ide,index=1 \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
echo "  \$ $*"
{ timeout 120 "$@" < /dev/null 2>&1; echo $? > "$LOG.rc"; } | tee "$LOG"
# isa-debug-exit makes QEMU exit with (code << 1) | 1: the kernel writes 0
# after PASS (status 1) and 1 after FAIL (status 3); 124 is the timeout.
rc=$(cat "$LOG.rc")

say "4. checks on the host"
fail=0
check() {
	if [ "$1" = yes ]; then echo "  ok   $2"; else echo "  FAIL $2"; fail=1; fi
}
lines=$(tr -d '\r' < "$LOG" | grep -a '^HDI-')
crc=$(printf '%s\n' "$lines" | sed -n 's/^HDI-DEMO: crc32 0 1048576 //p')
pass=$(printf '%s\n' "$lines" | grep -c '^HDI-DEMO: PASS$')
[ "$rc" = 1 ] && [ "$pass" = 1 ] && check yes "kernel printed HDI-DEMO: PASS, QEMU exit status 1" ||
	check no "kernel printed HDI-DEMO: PASS, QEMU exit status 1 (got status $rc)"
[ "$crc" = "$want" ] && check yes "kernel crc32 $crc = host crc32" || check no "kernel crc32 [$crc] = host crc32 $want"
if command -v qemu-img > /dev/null 2>&1; then
	qemu-img check -q "$DATA" && check yes "qemu-img check $DATA: clean" ||
		check no "qemu-img check $DATA"
fi
echo "  \$ $ED $DATA fdisk list"
"$ED" "$DATA" fdisk list
if [ $fail -ne 0 ]; then
	echo "demo: FAILED (serial log: $LOG)"
	exit 1
fi
echo "demo: PASS. Images: $IMG (boot), $DATA (data); serial log: $LOG"
