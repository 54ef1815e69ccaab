#!/bin/sh
# host_test/interop/28_qcow2_amend.sh: amend in each direction. qemu-img
# amend works on one copy, edqcow2 amend on the other: both must agree on
# success, the result must pass qemu-img check, compare equal (through the
# backing file when there is one) and show the same compat, lazy
# refcounts, refcount width and dirty flag. What qemu-img refuses we
# refuse, and the image stays untouched.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io python3 || exit 0

fields() {
	qemu-img info --output=json "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
d = j["format-specific"]["data"]
print(j["virtual-size"], d.get("compat"), d.get("lazy-refcounts"), d.get("refcount-bits"),
      d.get("extended-l2"), j.get("dirty-flag"), j.get("backing-filename"), len(j.get("snapshots", [])))'
}

qemu-img create -q -f raw "$T/base.raw" 8M
qemu-io -f raw -c 'write -q -P 0x55 0 8M' "$T/base.raw"

# twin NAME "amend options" "create options" [qemu-io commands...]
twin() {
	n=$1 ao=$2 co=$3; shift 3
	qemu-img create -q -f qcow2 -o "$co" "$T/$n.q" 8M || { notok "$n-create"; return; }
	for c in "$@"; do
		case $c in
		snap:*) qemu-img snapshot -c "${c#snap:}" "$T/$n.q" ;;
		*) qemu-io -f qcow2 -c "$c" "$T/$n.q" >/dev/null ;;
		esac
	done
	cp "$T/$n.q" "$T/$n.e"
	qemu-img amend -o "$ao" "$T/$n.q" 2>/dev/null; qr=$?
	out=$("$ED" "$T/$n.e" amend -o "$ao" 2>&1); er=$?
	if [ $qr -ne 0 ] && [ $er -ne 0 ]; then
		if cmp -s "$T/$n.e" "$T/$n.q" && [ -n "$out" ]; then ok "$n-refused"
		else notok "$n-refused" "image changed or no message: $out"; fi
		return
	fi
	[ $qr -eq $er ] || { notok "$n-agree" "qemu-img exit $qr, edqcow2 exit $er: $out"; return; }
	qcheck "$n-check" "$T/$n.e"
	if o=$(qemu-img compare "$T/$n.e" "$T/$n.q" 2>&1); then ok "$n-compare"; else notok "$n-compare" "$o"; fi
	expect_eq "$n-info" "$(fields "$T/$n.e")" "$(fields "$T/$n.q")"
}

DATA="write -P 1 0 300k"
ZERO="write -z 1M 192k"
twin down compat=0.10 compat=1.1 "$DATA" "$ZERO" "write -P 2 2M 64k" "write -z 2M 4k"
twin down-prealloc compat=0.10 compat=1.1,preallocation=metadata "$DATA" "$ZERO"
twin down-backed compat=0.10 "compat=1.1,backing_file=$T/base.raw,backing_fmt=raw" "$DATA" "$ZERO" "write -z 5M 1000"
twin down-snap compat=0.10 compat=1.1 "$DATA" snap:s1 "$ZERO" "write -P 3 100k 8k"
twin down-lazy compat=0.10,lazy_refcounts=off lazy_refcounts=on "$DATA" "$ZERO"
twin down-cs512 compat=0.10 compat=1.1,cluster_size=512 "$DATA" "$ZERO"
twin up compat=1.1 compat=0.10 "$DATA" snap:s1 "write -P 4 0 4k"
twin up-backed compat=1.1 "compat=0.10,backing_file=$T/base.raw,backing_fmt=raw" "$DATA"
twin up-lazy compat=1.1,lazy_refcounts=on compat=0.10 "$DATA"
twin lazy-on lazy_refcounts=on compat=1.1 "$DATA"
twin lazy-off lazy_refcounts=off lazy_refcounts=on "$DATA" "$ZERO"
twin same-backing "backing_file=$T/base.raw,backing_fmt=raw" "backing_file=$T/base.raw,backing_fmt=raw" "$DATA"
# refcount width: wider, narrower, sub-byte, with snapshots and compressed
twin rb64 refcount_bits=64 compat=1.1 "$DATA" "$ZERO" "write -c -P 5 4M 64k"
twin rb1 refcount_bits=1 compat=1.1 "$DATA" "write -P 6 6M 100k"
twin rb4-cs512 refcount_bits=4 compat=1.1,cluster_size=512 "$DATA"
twin rb8-snap refcount_bits=8 compat=1.1 "$DATA" snap:s1 "write -P 7 0 8k"
twin rb16-from2 refcount_bits=16 refcount_bits=2 "$DATA" snap:s1
twin rb32-up compat=1.1,refcount_bits=32 compat=0.10 "$DATA"
twin rb-lazy refcount_bits=8,lazy_refcounts=off lazy_refcounts=on "$DATA" "$ZERO"
# refused by both
twin refuse-rb1-snap refcount_bits=1 compat=1.1 "$DATA" snap:s1
twin refuse-extl2 compat=0.10 extended_l2=on "$DATA"
twin down-zstd-plain compat=0.10 compression_type=zstd "$DATA"
twin refuse-zstd compat=0.10 compression_type=zstd "$DATA" "write -c -P 9 1M 64k"
twin refuse-lazy-v2 lazy_refcounts=on compat=0.10 "$DATA"
twin down-lazy-kept compat=0.10,lazy_refcounts=on lazy_refcounts=on "$DATA" "$ZERO"
twin down-lazy-default compat=0.10 lazy_refcounts=on "$DATA"
twin refuse-backing "backing_file=$T/other" "backing_file=$T/base.raw,backing_fmt=raw" "$DATA"
twin refuse-cluster cluster_size=4096 compat=1.1 "$DATA"
twin refuse-rb-v2 refcount_bits=8 compat=0.10 "$DATA"
