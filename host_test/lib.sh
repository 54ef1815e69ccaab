# host_test/lib.sh: sourced by interop scripts. Prints TAP-like lines
# ("ok NAME", "not ok NAME: why", "skip NAME: why") that run.sh counts.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# BUILD may be relative to the repository or absolute.
case ${BUILD:-build} in
/*) B=$BUILD ;;
*) B=$ROOT/${BUILD:-build} ;;
esac
ED=${ED:-$B/edqcow2}
ED_SAN=$B/sanitize/edqcow2
T=$(mktemp -d "${TMPDIR:-/tmp}/hdi-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

ok() { echo "ok $1"; }
notok() { echo "not ok $1: ${2:-}"; }
# need TOOL...: returns 1 (and reports) when a tool is missing; under CI
# a missing tool is a failure, never a skip.
need() {
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			if [ "${CI:-}" = true ]; then notok "need-$t" "tool $t missing"
			else echo "skip need-$t: tool $t missing"; fi
			return 1
		fi
	done
	return 0
}
# check NAME CMD...: ok when CMD exits 0.
check() {
	n=$1; shift
	if out=$("$@" 2>&1); then ok "$n"; else notok "$n" "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"; fi
}
# expect_eq NAME GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got [$2] want [$3]"; fi
}
# qcheck NAME IMAGE: qemu-img check exits 0 (no corruption, no leaks).
qcheck() {
	if out=$(qemu-img check "$2" 2>&1); then ok "$1"; else notok "$1" "$(printf '%s' "$out" | tail -n 4 | tr '\n' ' ')"; fi
}
