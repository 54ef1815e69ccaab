#!/bin/sh
# host_test/matrix/compilers.sh: the library, edqcow2, the unit tests and the
# test programs build without a single warning under gcc and clang with
# -std=c99 -pedantic (as errors), and the clang build's unit tests pass.
. "$(dirname "$0")/../lib.sh"
for cc in gcc clang; do
	need "$cc" || continue
	out=$(make -s -C "$ROOT" CC="$cc" BUILD="$B/cc-$cc" HDI_XFLAGS="-Werror" \
		all "$B/cc-$cc/unit_tests" "$B/cc-$cc/prog_crash" 2>&1)
	if [ $? -eq 0 ] && ! printf '%s' "$out" | grep -q 'warning:'; then
		ok "compilers.$cc-pedantic"
	else
		notok "compilers.$cc-pedantic" "$(printf '%s' "$out" | grep -m3 -E 'warning|error' | tr '\n' ' ')"
		continue
	fi
	[ "$cc" = clang ] || continue
	if "$B/cc-$cc/unit_tests" > "$T/u.txt" 2>&1; then ok "compilers.$cc-unit"
	else notok "compilers.$cc-unit" "$(grep -m3 '^not ok' "$T/u.txt" | tr '\n' ' ')"; fi
done
