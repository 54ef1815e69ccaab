#!/bin/sh
# host_test/interop/26_qcow2_snapshot.sh: internal snapshots. The same
# sequence of writes and snapshot create/apply/delete runs with edqcow2 on
# one image and qemu-io/qemu-img on a twin; after every snapshot step
# qemu-img check must pass on ours (no errors, no leaks), the active disks
# compare equal and `qemu-img snapshot -l` lists the same ids and names; at
# the end every snapshot reads (qemu-img convert -l) as the twin's, and the
# info --output=json fields agree. Refusals leave the image untouched.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/write_ops.inc"
need qemu-img qemu-io python3 || exit 0

K=1024 M=1048576

# ids, names, vm state and disk size; dates differ between the twins
snaplist() { qemu-img snapshot -l "$1" | awk 'NR > 2 { print $1, $2, $3, $4 }'; }

info_fields() {
	qemu-img info --output=json "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
d = j["format-specific"]["data"]
print(j["virtual-size"], d.get("compat"), d.get("lazy-refcounts"), d.get("refcount-bits"),
      d.get("extended-l2"), j.get("dirty-flag"))
for s in j.get("snapshots", []):
    print(s["id"], s["name"], s["vm-state-size"], s.get("icount"), s["vm-clock-sec"])'
}

# snap_step NAME OURS TWIN OP: c:NAME create, a:NAME apply, x:NAME delete
snap_step() {
	k=${4%%:*} s=${4#*:}
	case $k in
	c) e=$("$ED" "$2" snapshot create "$s" 2>&1) && t=$(qemu-img snapshot -c "$s" "$3" 2>&1) ;;
	a) e=$("$ED" "$2" snapshot apply "$s" 2>&1) && t=$(qemu-img snapshot -a "$s" "$3" 2>&1) ;;
	x) e=$("$ED" "$2" snapshot delete "$s" 2>&1) && t=$(qemu-img snapshot -d "$s" "$3" 2>&1) ;;
	esac || { notok "$1" "$4: ${e:-} ${t:-}"; return 1; }
	qcheck "$1-check" "$2"
	expect_eq "$1-list" "$(snaplist "$2")" "$(snaplist "$3")"
	if out=$(qemu-img compare -f qcow2 -F qcow2 "$2" "$3" 2>&1); then ok "$1-compare"
	else notok "$1-compare" "$out"; fi
}

# every snapshot of the twin reads the same from ours
snap_contents() {
	for id in $(qemu-img snapshot -l "$3" | awk 'NR > 2 { print $2 }'); do
		qemu-img convert -l "snapshot.name=$id" -O raw "$2" "$T/s.e.raw" &&
		qemu-img convert -l "snapshot.name=$id" -O raw "$3" "$T/s.q.raw" &&
		cmp -s "$T/s.e.raw" "$T/s.q.raw" || { notok "$1-snap-$id" "contents differ"; continue; }
		ok "$1-snap-$id"
	done
	expect_eq "$1-info" "$(info_fields "$2")" "$(info_fields "$3")"
}

# twin NAME "qemu-img -o options" SIZE STEP...
twin() {
	n=$1 qo=$2 size=$3; shift 3
	rm -f "$T/$n.e" "$T/$n.q"
	qemu-img create -q -f qcow2 ${qo:+-o "$qo"} "$T/$n.q" "$size" || { notok "$n-create"; return; }
	cp "$T/$n.q" "$T/$n.e"
	i=0
	for st in "$@"; do
		i=$((i + 1))
		case $st in
		[cax]:*) snap_step "$n-$i" "$T/$n.e" "$T/$n.q" "$st" || return ;;
		C:*)	# compressed data, the same on both (qemu-io)
			o=${st#C:}
			qemu-io -f qcow2 -c "write -q -c -P 0x77 $(($o)) 64k" "$T/$n.e" &&
			qemu-io -f qcow2 -c "write -q -c -P 0x77 $(($o)) 64k" "$T/$n.q" || return ;;
		*)	ops_apply "$n-$i" "$T/$n.e" "$T/$n.q" "$st" || return ;;
		esac
	done
	ok "$n-ops"
	snap_contents "$n" "$T/$n.e" "$T/$n.q"
}

SEQ="w:0:200000 c:one w:100000:300000 z:0:65536 c:two d:512*K:64*K w:3*M:70000
c:three a:one w:50000:1000 x:two w:M:2*M a:three c:four x:one x:three w:0:4*K"
# shellcheck disable=SC2086
twin default "" 8M $SEQ
# shellcheck disable=SC2086
twin v2 compat=0.10 8M $SEQ
# shellcheck disable=SC2086
twin lazy lazy_refcounts=on 8M $SEQ
# shellcheck disable=SC2086
twin cs512-rb64 cluster_size=512,refcount_bits=64 8M $SEQ
# shellcheck disable=SC2086
twin extl2 extended_l2=on 8M $SEQ
# shellcheck disable=SC2086
twin cs2m cluster_size=2M 8M $SEQ
twin compressed cluster_size=65536 4M C:0 C:128*K w:0:1000 c:s1 C:64*K w:100000:100 c:s2 \
	a:s1 x:s1 w:128*K:64*K a:s2 x:s2
# apply brings back the snapshot's disk size, either way
twin resized "" 4M w:0:M c:small g:16*M w:12*M:M c:big s:2*M a:big a:small w:3*M:4096 x:big
twin nothing "" 1M c:empty a:empty x:empty

# refusals: a clear error, non-zero exit, the image unchanged
qemu-img create -q -f qcow2 "$T/r.q" 4M
qemu-io -f qcow2 -c 'write -q -P 1 0 100k' "$T/r.q"
qemu-img snapshot -c taken "$T/r.q"
refuse() {
	n=$1; shift
	cp "$T/r.q" "$T/r.e"
	if out=$("$ED" "$T/r.e" snapshot "$@" 2>&1); then notok "refuse-$n" "accepted: $out"
	elif [ -z "$out" ]; then notok "refuse-$n" "no error message"
	elif ! cmp -s "$T/r.e" "$T/r.q"; then notok "refuse-$n" "image changed"
	else ok "refuse-$n"; fi
}
refuse apply-unknown apply nosuch
refuse delete-unknown delete nosuch
refuse duplicate-name create taken
refuse empty-name create ""
refuse no-name create
# refcount_bits=1 leaves no room for a second reference (qemu-img refuses too)
qemu-img create -q -f qcow2 -o refcount_bits=1 "$T/rb1.q" 1M
qemu-io -f qcow2 -c 'write -q -P 1 0 100k' "$T/rb1.q"
cp "$T/rb1.q" "$T/rb1.e"
if qemu-img snapshot -c s "$T/rb1.q" 2>/dev/null; then notok refuse-rb1-twin "qemu-img accepted"; fi
if "$ED" "$T/rb1.e" snapshot create s 2>/dev/null; then notok refuse-rb1 "accepted"
else qcheck refuse-rb1-check "$T/rb1.e"; expect_eq refuse-rb1-list "$(snaplist "$T/rb1.e")" ""; fi
