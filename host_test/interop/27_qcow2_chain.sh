#!/bin/sh
# host_test/interop/27_qcow2_chain.sh: commit and rebase over 2- and
# 3-level backing chains with raw and qcow2 bases. Each chain is built
# twice (same relative names in two directories); qemu-img works on one,
# edqcow2 on the other; then every layer must compare equal to its twin
# (qemu-img compare through the chain, cmp for raw), pass qemu-img check,
# and show the same backing name, format and size. Refusals leave the
# image untouched.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io python3 || exit 0

# mk DIR LAYOUT: base (raw or qcow2), optional mid, top, with data in each
mk() {
	d=$1; rm -rf "$d"; mkdir -p "$d"
	case $2 in
	raw*) qemu-img create -q -f raw "$d/base" 4M
	      qemu-io -f raw -c 'write -q -P 0x11 0 3M' "$d/base"; bf=raw ;;
	*)    qemu-img create -q -f qcow2 ${BOPTS:+-o "$BOPTS"} "$d/base" "${BSIZE:-4M}"
	      qemu-io -f qcow2 -c 'write -q -P 0x11 0 1M' -c 'write -q -P 0x12 1536k 512k' "$d/base"; bf=qcow2 ;;
	esac
	under=base uf=$bf
	case $2 in
	*3) qemu-img create -q -f qcow2 -b base -F "$bf" "$d/mid" 4M
	    qemu-io -f qcow2 -c 'write -q -P 0x21 512k 1M' -c 'write -q -z 3M 64k' "$d/mid"
	    under=mid uf=qcow2 ;;
	esac
	qemu-img create -q -f qcow2 ${TOPTS:+-o "$TOPTS"} -b "$under" -F "$uf" "$d/top" 4M
	qemu-io -f qcow2 -c 'write -q -P 0x31 100k 300k' -c 'write -q -P 0x32 1500k 4k' \
		-c 'write -q -z 2560k 128k' -c 'write -q -P 0x33 4032k 64k' "$d/top"
}

fields() {
	qemu-img info --output=json "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(j["format"], j["virtual-size"], j.get("backing-filename"), j.get("backing-filename-format"), j.get("dirty-flag"))'
}

# judge NAME: every layer of $T/NAME.e equals its twin in $T/NAME.q
judge() {
	for f in top mid base; do
		[ -e "$T/$1.q/$f" ] || continue
		if [ "$(qemu-img info --output=json "$T/$1.q/$f" | grep -c '"qcow2"')" -gt 0 ]; then
			qcheck "$1-$f-check" "$T/$1.e/$f"
			if out=$(qemu-img compare "$T/$1.e/$f" "$T/$1.q/$f" 2>&1); then ok "$1-$f-compare"
			else notok "$1-$f-compare" "$out"; fi
		elif cmp -s "$T/$1.e/$f" "$T/$1.q/$f"; then ok "$1-$f-compare"
		else notok "$1-$f-compare" "raw layers differ"; fi
		expect_eq "$1-$f-info" "$(fields "$T/$1.e/$f")" "$(fields "$T/$1.q/$f")"
	done
}

# twin NAME LAYOUT "qemu-img ARGS" "edqcow2 ARGS": both on top
twin() {
	mk "$T/$1.q" "$2"; mk "$T/$1.e" "$2"
	# shellcheck disable=SC2086
	if ! out=$(cd "$T/$1.q" && qemu-img $3 top 2>&1); then notok "$1-twin" "$out"; return; fi
	# shellcheck disable=SC2086
	if ! out=$(cd "$T/$1.e" && "$ED" top $4 2>&1); then notok "$1-run" "$out"; return; fi
	ok "$1-run"
	judge "$1"
}

# commit
twin commit-q2 q2 "commit -q" "commit -q"
twin commit-q2-keep q2 "commit -q -d" "commit -q -d"
twin commit-raw2 raw2 "commit -q" "commit -q"
twin commit-q3 q3 "commit -q" "commit -q"
twin commit-q3-base q3 "commit -q -b base" "commit -q -b base"
twin commit-raw3-base raw3 "commit -q -b base" "commit -q -b base"
BSIZE=2M twin commit-small-base q2 "commit -q" "commit -q"
TOPTS=cluster_size=512 twin commit-cs512 q2 "commit -q" "commit -q"
TOPTS=extended_l2=on twin commit-extl2 q2 "commit -q" "commit -q"
TOPTS=compat=0.10 twin commit-v2 q2 "commit -q" "commit -q"
BOPTS=lazy_refcounts=on twin commit-lazy-base q3 "commit -q -b base" "commit -q -b base"

# rebase: onto another base, skipping a layer, flattening, header only
mk_newbase() { qemu-img create -q -f qcow2 "$1/new" 3M; qemu-io -f qcow2 -c 'write -q -P 0x44 1M 2M' "$1/new"; }
rtwin() {
	mk "$T/$1.q" "$2"; mk "$T/$1.e" "$2"
	mk_newbase "$T/$1.q"; mk_newbase "$T/$1.e"
	if [ "$3" = flatten ]; then
		q() { qemu-img rebase -b "" top; }; e() { "$ED" top rebase -b ""; }
	else
		RA=$3
		# shellcheck disable=SC2086
		q() { qemu-img rebase $RA top; }; e() { "$ED" top rebase $RA; }
	fi
	if ! out=$(cd "$T/$1.q" && q 2>&1); then notok "$1-twin" "$out"; return; fi
	if ! out=$(cd "$T/$1.e" && e 2>&1); then notok "$1-run" "$out"; return; fi
	ok "$1-run"
	judge "$1"
}
rtwin rebase-raw2-new raw2 "-b new -F qcow2"
rtwin rebase-q2-new q2 "-b new -F qcow2"
rtwin rebase-q3-skip q3 "-b base -F qcow2"
rtwin rebase-raw3-skip raw3 "-b base -F raw"
rtwin rebase-q3-flatten q3 flatten
rtwin rebase-raw2-flatten raw2 flatten
rtwin rebase-q2-unsafe q2 "-u -b new -F qcow2"
TOPTS=cluster_size=512 rtwin rebase-cs512 q3 "-b new -F qcow2"
TOPTS=extended_l2=on rtwin rebase-extl2 q3 "-b new -F qcow2"
TOPTS=compat=0.10 rtwin rebase-v2 q3 "-b new -F qcow2"

# refusals: clear error, non-zero exit, image untouched
refuse() {
	n=$1 img=$2; shift 2
	cp "$img" "$T/before"
	if out=$("$ED" "$img" "$@" 2>&1); then notok "refuse-$n" "accepted: $out"
	elif [ -z "$out" ]; then notok "refuse-$n" "no error message"
	elif ! cmp -s "$img" "$T/before"; then notok "refuse-$n" "image changed"
	else ok "refuse-$n"; fi
}
mk "$T/r" q2
refuse rebase-missing "$T/r/top" rebase -b nosuch.qcow2 -F qcow2
refuse rebase-missing-unsafe "$T/r/top" rebase -u -b nosuch.qcow2
refuse commit-no-backing "$T/r/base" commit
refuse commit-base-not-in-chain "$T/r/top" commit -b "$T/r/top"
qemu-img create -q -f raw "$T/r/plain.raw" 1M
refuse commit-raw "$T/r/plain.raw" commit
