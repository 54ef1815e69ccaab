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
# A relative backing name is resolved beside the overlay with Windows'
# rules (the resolver's rules are unit-tested on any host in
# t_host_path_lock.c); where wine runs the exe, the exe shows it.
if command -v wine >/dev/null 2>&1; then
	mkdir -p "$T/w/vm"
	qemu-img create -q -f qcow2 "$T/w/base.qcow2" 1M
	qemu-io -f qcow2 -c 'write -P 0x42 0 512' "$T/w/base.qcow2" >/dev/null
	if (cd "$T/w" && WINEDEBUG=-all timeout 120 wine "$exe" 'vm\top.qcow2' create --backing '..\base.qcow2') >"$T/wout" 2>&1 &&
	   [ "$(cd "$T/w" && WINEDEBUG=-all timeout 120 wine "$exe" 'vm\top.qcow2' read 0 1 2>/dev/null | od -An -tx1 | tr -d ' ')" = 42 ]; then
		ok windows.backing-beside-overlay
	else
		notok windows.backing-beside-overlay "$(head -c 300 "$T/wout")"
	fi
fi
# File identity on Windows (volume serial and file index): a convert onto
# its own input through .\ or a hard link is refused, the image unchanged.
if command -v wine >/dev/null 2>&1; then
	ln -f "$T/w/base.qcow2" "$T/w/hl.qcow2"
	before=$(cksum < "$T/w/base.qcow2")
	for o in '.\base.qcow2' 'hl.qcow2'; do
		case $o in hl*) n=hardlink ;; *) n=dot ;; esac
		if (cd "$T/w" && WINEDEBUG=-all timeout 120 wine "$exe" base.qcow2 convert "$o" -O raw) >"$T/wout" 2>&1 ||
		   ! grep -q 'input image itself' "$T/wout" || [ "$(cksum < "$T/w/base.qcow2")" != "$before" ]; then
			notok "windows.self-convert.$n" "$(head -c 300 "$T/wout")"
		else
			ok "windows.self-convert.$n"
		fi
	done
fi
