#!/bin/sh
# host_test/interop/16_visibility.sh: the library exports its public API
# and nothing else. Every global symbol that core/'s objects define with
# default visibility must be declared in include/hdi/; the internal ones
# (hdi_qc_*, hdi_qcw_*, ...) must be hidden, so a shared build or a kernel
# linking with --gc-sections sees only the API.
. "$(dirname "$0")/../lib.sh"
need readelf || exit 0
objs=$(ls "$B"/host/core/*.o 2>/dev/null)
[ -n "$objs" ] || { notok visibility-objects "no objects in $B/host/core"; exit 0; }
# defined GLOBAL/WEAK symbols: "VIS NAME"
readelf -sW $objs 2>/dev/null | awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" && $8 != "" {print $6, $8}' |
	sort -u > "$T/syms"
cat "$ROOT"/include/hdi/*.h > "$T/api"
bad= n_hidden=0 n_public=0
while read -r vis name; do
	if [ "$vis" = HIDDEN ]; then n_hidden=$((n_hidden + 1)); continue; fi
	if grep -qw "$name" "$T/api"; then n_public=$((n_public + 1)); else bad="$bad $name"; fi
done < "$T/syms"
expect_eq visibility-only-api-exported "${bad# }" ""
# The check sees both kinds, or it proves nothing.
[ "$n_public" -ge 50 ] && ok visibility-api-exported || notok visibility-api-exported "$n_public public symbols"
[ "$n_hidden" -ge 50 ] && ok visibility-internals-hidden || notok visibility-internals-hidden "$n_hidden hidden symbols"
# Public API declared in the headers is not hidden by mistake.
hid=$(awk '$1 == "HIDDEN" {print $2}' "$T/syms" | while read -r s; do
	grep -qE "^[a-z].*[ *]$s\(" "$T/api" && echo "$s"; done | tr '\n' ' ')
expect_eq visibility-api-not-hidden "${hid% }" ""
