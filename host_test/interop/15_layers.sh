#!/bin/sh
# host_test/interop/15_layers.sh: core/ depends one way (rule 7). The
# #include graph and the symbol graph of the freestanding objects (nm) have
# no cycle between files, and a reader linked from the static library pulls
# in no write, check or repair code. Both checks are first shown to fail on
# a planted cycle and a planted write-side member.
. "$(dirname "$0")/../lib.sh"
X=${CROSS_COMPILE:-i686-linux-gnu-}
need python3 "${X}gcc" "${X}nm" "${X}ld" || exit 0
PY="python3 $ROOT/host_test/layers.py"
FS=$B/freestanding
if ! out=$(make -C "$ROOT" --no-print-directory BUILD="$B" freestanding 2>&1); then
	notok layers-build "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
	exit 0
fi

# The checks can fail: a.c and b.c call each other, c.h and d.h include
# each other; r.c defines a reader entry but belongs to the write side.
mkdir -p "$T/src" "$T/obj"
printf '#include "d.h"\n' > "$T/src/c.h"
printf '#include "c.h"\n' > "$T/src/d.h"
printf 'int hdi_b(void);\nint hdi_a(void) { return hdi_b(); }\n' > "$T/src/a.c"
printf 'int hdi_a(void);\nint hdi_b(void) { return hdi_a(); }\n' > "$T/src/b.c"
for f in a b; do ${X}gcc -m32 -c "$T/src/$f.c" -o "$T/obj/$f.o"; done
$PY graph "$T/src" "$T/obj" "${X}nm" > "$T/planted" 2>&1
if grep -q '^not ok layers-include-acyclic: cycle {c.h d.h}' "$T/planted" &&
   grep -q '^not ok layers-objects-acyclic: cycle {a.c b.c}' "$T/planted"; then
	ok layers-detects-cycles
else
	notok layers-detects-cycles "$(tr '\n' ' ' < "$T/planted")"
fi
mkdir -p "$T/ro"
: > "$T/ro/qcow2_wr.h"
printf '#include "qcow2_wr.h"\nint hdi_qcow2_read(void) { return 0; }\n' > "$T/ro/r.c"
${X}gcc -m32 -c "$T/ro/r.c" -o "$T/ro/r.o" && ${X}ar rcs "$T/ro/lib.a" "$T/ro/r.o"
$PY readonly "$T/ro" "$T/ro/lib.a" "${X}ld" -m elf_i386 > "$T/planted" 2>&1
if grep -q '^not ok layers-readonly-link: a reader links r.c' "$T/planted"; then
	ok layers-detects-readonly-leak
else
	notok layers-detects-readonly-leak "$(tr '\n' ' ' < "$T/planted")"
fi

# The real thing.
$PY graph "$ROOT/core" "$FS/core" "${X}nm"
$PY readonly "$ROOT/core" "$FS/libhdi.a" "${X}ld" -m elf_i386
