#!/bin/sh
# edqcow2 builds for Windows (MinGW-w64), where the first edqcow2 ran: the
# core, the stdio file device and the tool, with -Werror.
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
