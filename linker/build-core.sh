#!/bin/sh
# linker/build-core.sh: builds core/ as a static library for another kernel
# and proves it links there: no libc, no libgcc, nothing undefined but the
# four mem* functions the kernel supplies. See docs/porting.md.
#
#   CROSS_COMPILE=i686-elf- linker/build-core.sh OUTDIR [EXTRA_CFLAGS...]
#
# Produces OUTDIR/libhdi.a and OUTDIR/include/hdi/*.h. EXTRA_CFLAGS are
# your kernel's code-generation flags (-mcmodel=kernel, -mno-red-zone,
# -march=..., -O2, ...); the freestanding ones below are always added.
set -eu
[ $# -ge 1 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$1
shift
here=$(cd "$(dirname "$0")/.." && pwd)
cc=${CROSS_COMPILE-i686-linux-gnu-}gcc
ar=${CROSS_COMPILE-i686-linux-gnu-}ar
ld=${CROSS_COMPILE-i686-linux-gnu-}ld
nm=${CROSS_COMPILE-i686-linux-gnu-}nm

mkdir -p "$out/obj" "$out/include/hdi"
rm -f "$out/obj/"*.o "$out/libhdi.a"
for src in "$here"/core/*.c; do
	obj=$out/obj/$(basename "$src" .c).o
	"$cc" -std=c99 -O2 -ffreestanding -nostdlib -fno-pic -fno-pie \
		-fno-stack-protector -fno-asynchronous-unwind-tables \
		-ffunction-sections -fdata-sections \
		-I"$here/include" "$@" -c "$src" -o "$obj"
done
"$ar" rcs "$out/libhdi.a" "$out/obj/"*.o
cp "$here"/include/hdi/*.h "$out/include/hdi/"

# Every member linked together: whatever is still undefined is what the
# kernel must provide. Only memcpy, memmove, memset and memcmp may be.
"$ld" -r -o "$out/obj/hdi-all.o" "$out/obj/"*.o
bad=$("$nm" -u "$out/obj/hdi-all.o" | awk '{print $NF}' |
	grep -vxE 'memcpy|memmove|memset|memcmp' || true)
if [ -n "$bad" ]; then
	echo "build-core: core needs symbols a kernel does not have: $bad" >&2
	exit 1
fi
echo "build-core: $out/libhdi.a ($(wc -c < "$out/libhdi.a") bytes); the kernel provides memcpy memmove memset memcmp"
