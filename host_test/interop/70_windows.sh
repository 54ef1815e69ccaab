#!/bin/sh
# edqcow2 builds for Windows (MinGW-w64), where the first edqcow2 ran: the
# core, the stdio file device and the tool, with -Werror; then it runs under
# wine (the seed command on a C:\ path, info, check, convert, a relative
# backing name resolved as Windows does) and qemu-img and sfdisk judge it.
. "$(dirname "$0")/../lib.sh"
need x86_64-w64-mingw32-gcc || exit 0
if out=$(make -s -C "$ROOT" BUILD="${BUILD:-build}" windows 2>&1); then
	ok windows.build
else
	notok windows.build "$(printf '%s' "$out" | grep -m3 -E 'error|undefined' | tr '\n' ' ')"
	exit 0
fi
exe=$B/windows/edqcow2.exe
# A PE32+ executable that imports nothing outside the C runtime and kernel32.
if x86_64-w64-mingw32-objdump -p "$exe" 2>/dev/null | grep -q 'file format pei-x86-64'; then
	ok windows.pe64
else
	notok windows.pe64 "not a PE32+ image"
fi
dlls=$(x86_64-w64-mingw32-objdump -p "$exe" | awk '/DLL Name/{print tolower($3)}' | sort -u | tr '\n' ' ')
case "$dlls" in
*[!\ ]*) bad=$(printf '%s\n' $dlls | grep -vE '^(kernel32|msvcrt|ucrtbase|api-ms-win-.*)\.dll$' || true)
	expect_eq windows.imports "$bad" "" ;;
*) notok windows.imports "no imports read" ;;
esac

# The Windows executable runs its own commands under wine, on C:\ paths;
# the native qemu-img and sfdisk judge what it wrote.
need wine qemu-img qemu-io sfdisk || exit 0
export WINEPREFIX=$B/wineprefix WINEDEBUG=-all
W() { timeout 300 wine "$exe" "$@" 2>&1 | tr -d '\r'; }
if ! W --version >/dev/null || [ ! -d "$WINEPREFIX/drive_c" ]; then
	notok windows.wine "wine could not run $exe"
	exit 0
fi
C=$WINEPREFIX/drive_c/hdi-test
rm -rf "$C"
mkdir -p "$C/base" "$C/ovl"
# the seed command, on a C:\ path
W 'C:\hdi-test\seed.qcow2' create 64M >/dev/null
W 'C:\hdi-test\seed.qcow2' fdisk create PrimaryPartition 16M >/dev/null
qcheck windows.seed.qemu-img-check "$C/seed.qcow2"
qemu-img convert -O raw "$C/seed.qcow2" "$T/seed.raw"
expect_eq windows.seed.sfdisk "$(sfdisk -d "$T/seed.raw" 2>/dev/null | grep -c 'start=          63, size=       32768, type=e, bootable')" 1
# info and check
out=$(W 'C:\hdi-test\seed.qcow2' info)
case $out in *"virtual size: 64 MiB (67108864 bytes)"*) ok windows.info ;;
*) notok windows.info "$(printf '%s' "$out" | head -n 3 | tr '\n' ' ')" ;; esac
check windows.check sh -c "WINEPREFIX='$WINEPREFIX' WINEDEBUG=-all wine '$exe' 'C:\\hdi-test\\seed.qcow2' check"
# convert of a qemu-made image with data, zeroes and compressed clusters
qemu-img create -q -f qcow2 "$C/data.qcow2" 8M
qemu-io -f qcow2 -c "write -P 0x5a 0 1M" -c "write -c -P 0x33 2M 64k" \
	-c "write -z 3M 64k" "$C/data.qcow2" >/dev/null
W 'C:\hdi-test\data.qcow2' convert 'C:\hdi-test\data.raw' -O raw >/dev/null
qemu-img convert -O raw "$C/data.qcow2" "$T/data.raw"
check windows.convert-raw cmp "$C/data.raw" "$T/data.raw"
W 'C:\hdi-test\data.qcow2' convert 'C:\hdi-test\copy.qcow2' -O qcow2 >/dev/null
qcheck windows.convert-qcow2.check "$C/copy.qcow2"
check windows.convert-qcow2.same qemu-img compare "$C/data.qcow2" "$C/copy.qcow2"
# a relative backing file in another directory, named as Windows names it
qemu-img create -q -f qcow2 "$C/base/base.qcow2" 8M
qemu-io -f qcow2 -c "write -P 0x42 1M 1M" "$C/base/base.qcow2" >/dev/null
qemu-img create -q -u -f qcow2 -b '..\base\base.qcow2' -F qcow2 "$C/ovl/top.qcow2" 8M
(cd "$T" && W 'C:\hdi-test\ovl\top.qcow2' convert 'C:\hdi-test\top.raw' -O raw >/dev/null)
qemu-img convert -O raw "$C/base/base.qcow2" "$T/base.raw"
check windows.backing-relative cmp "$C/top.raw" "$T/base.raw"
# edqcow2's own create resolves the relative name beside the overlay too
# (the resolver's Windows rules are unit-tested on any host in
# t_host_path_lock.c)
W 'C:\hdi-test\ovl\mine.qcow2' create --backing '..\base\base.qcow2' >"$T/wout"
(cd "$T" && W 'C:\hdi-test\ovl\mine.qcow2' convert 'C:\hdi-test\mine.raw' -O raw >>"$T/wout")
if cmp -s "$C/mine.raw" "$T/base.raw"; then ok windows.create-backing-relative
else notok windows.create-backing-relative "$(head -c 300 "$T/wout")"; fi
# file identity (volume serial and file index): convert onto its own input
# through .\, another letter case or a hard link is refused, unchanged
ln -f "$C/data.qcow2" "$C/hl.qcow2"
before=$(cksum < "$C/data.qcow2")
for n in dot case hardlink; do
	case $n in
	dot) o='C:\hdi-test\.\data.qcow2' ;; case) o='C:\HDI-TEST\DATA.QCOW2' ;; hardlink) o='C:\hdi-test\hl.qcow2' ;;
	esac
	out=$(W 'C:\hdi-test\data.qcow2' convert "$o" -O raw)
	case $out in
	*"input image itself"*) expect_eq "windows.self-convert.$n" "$(cksum < "$C/data.qcow2")" "$before" ;;
	*) notok "windows.self-convert.$n" "$(printf '%s' "$out" | head -c 300)" ;;
	esac
done
rm -rf "$C"
