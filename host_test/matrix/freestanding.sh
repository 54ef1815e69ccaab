#!/bin/sh
# host_test/matrix/freestanding.sh: core/ for every freestanding target of
# docs/porting.md, with -Werror -pedantic, linked with only mem* undefined
# (Cortex-M0 and rv32 with kernel_shim/cc_helpers.c for libgcc's helpers);
# prints each target's .text and keeps the table in $B/matrix-size.txt.
. "$(dirname "$0")/../lib.sh"
: > "$B/matrix-size.txt"
# fs NAME CROSS_COMPILE [FS_ARCH_FLAGS [helpers]]
fs() {
	name=$1 cross=$2 flags=${3:-} helpers=${4:-}
	need "${cross}gcc" || return 0
	if out=$(make -s -C "$ROOT" BUILD="${BUILD:-build}" CROSS_COMPILE="$cross" FS_NAME="$name" \
		${flags:+"FS_ARCH_FLAGS=$flags"} ${helpers:+FS_SHIM_HELPERS=yes} freestanding 2>&1); then
		ok "freestanding.$name"
		printf '%s\n' "$out" | sed -n 's/^freestanding: /# /p'
		text=$(printf '%s\n' "$out" | sed -n 's/.*\.text \([0-9]*\) bytes.*/\1/p')
		printf '%-10s %-22s %8s  %s\n' "$name" "$cross" "$text" "$(printf '%s\n' "$out" |
			sed -n 's/.*needs from kernel_shim\/cc_helpers: //p')" >> "$B/matrix-size.txt"
	else
		notok "freestanding.$name" "$(printf '%s' "$out" | grep -m3 -E 'error|undefined' | tr '\n' ' ')"
	fi
}
fs i686 i686-linux-gnu-
fs cortex-m4 arm-none-eabi-
fs cortex-m0 arm-none-eabi- "-mthumb -mcpu=cortex-m0" helpers
fs aarch64 aarch64-linux-gnu-
fs rv64imac riscv64-unknown-elf-
fs rv32imac riscv64-unknown-elf- "-march=rv32imac -mabi=ilp32" helpers
echo "# .text per target (-Os), and the helpers a kernel supplies:"
sed 's/^/# /' "$B/matrix-size.txt"
