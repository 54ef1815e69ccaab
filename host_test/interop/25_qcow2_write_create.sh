#!/bin/sh
# host_test/interop/25_qcow2_write_create.sh: `edqcow2 IMAGE create` for
# every create option; qemu-img info must show what was asked and
# qemu-img check must pass (exit 0: no errors, no leaks).
. "$(dirname "$0")/../lib.sh"
need qemu-img python3 || exit 0

# info_is NAME IMAGE KEY=VALUE...: qemu-img info --output=json fields
# (format-specific ones by their qemu names) equal the wanted values.
info_is() {
	in=$1 img=$2; shift 2
	got=$(qemu-img info --output=json "$img" 2>&1 | python3 -c '
import json, sys
try:
    j = json.load(sys.stdin)
except Exception as e:
    print("bad-json"); sys.exit(0)
d = dict(j)
d.update(j.get("format-specific", {}).get("data", {}))
out = []
for kv in sys.argv[1:]:
    k, v = kv.split("=", 1)
    g = d.get(k, "<missing>")
    if isinstance(g, bool): g = "true" if g else "false"
    if str(g) != v: out.append("%s=%s(want %s)" % (k, g, v))
print(" ".join(out))' "$@")
	if [ -z "$got" ]; then ok "$in"; else notok "$in" "$got"; fi
}

# mk NAME SIZE_BYTES [create options] -- [KEY=VALUE to expect]
mk() {
	n=$1 sz=$2; shift 2
	opts=""
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts="$opts $1"; shift; done
	[ $# -gt 0 ] && shift
	rm -f "$T/$n.qcow2"
	# shellcheck disable=SC2086
	if ! out=$("$ED" "$T/$n.qcow2" create "$sz" $opts 2>&1); then
		notok "create-$n" "$out"; return
	fi
	ok "create-$n"
	info_is "info-$n" "$T/$n.qcow2" format=qcow2 virtual-size="$sz" "$@"
	qcheck "check-$n" "$T/$n.qcow2"
}

mk default 104857600 -- cluster-size=65536 compat=1.1 refcount-bits=16 \
	lazy-refcounts=false extended-l2=false corrupt=false dirty-flag=false
mk v2 104857600 --compat 0.10 -- compat=0.10 cluster-size=65536 refcount-bits=16
mk v2-512 10485760 --compat 0.10 --cluster-size 512 -- compat=0.10 cluster-size=512
for cs in 512 1K 2K 4K 8K 16K 32K 64K 128K 256K 512K 1M 2M; do
	b=$(python3 -c "import sys;s='$cs';m={'K':1024,'M':1<<20}.get(s[-1],1);print(int(s.rstrip('KM'))*m)")
	mk "cs$cs" 1073741824 --cluster-size "$cs" -- cluster-size="$b"
done
for rb in 1 2 4 8 16 32 64; do
	mk "rb$rb" 1073741824 --refcount-bits "$rb" -- refcount-bits="$rb"
	mk "rb$rb-512" 33554432 --refcount-bits "$rb" --cluster-size 512 -- refcount-bits="$rb" cluster-size=512
done
mk lazy 1073741824 --lazy-refcounts -- lazy-refcounts=true dirty-flag=false
mk extl2 1073741824 --extended-l2 -- extended-l2=true cluster-size=65536
mk extl2-16k 1073741824 --extended-l2 --cluster-size 16K -- extended-l2=true cluster-size=16384
mk extl2-2m 1073741824 --extended-l2 --cluster-size 2M -- extended-l2=true cluster-size=2097152
mk all 2147483648 --lazy-refcounts --extended-l2 --refcount-bits 64 --cluster-size 32K -- \
	lazy-refcounts=true extended-l2=true refcount-bits=64 cluster-size=32768
mk zero 0 -- virtual-size=0
mk odd 1048576000 --cluster-size 1M -- cluster-size=1048576
# many L1 clusters, refcount structures larger than one block
mk big512 68719476736 --cluster-size 512 --refcount-bits 64 -- cluster-size=512 refcount-bits=64
mk huge 4398046511104 -- virtual-size=4398046511104
mk max512 107374182400 --cluster-size 512 -- cluster-size=512

# SIZE rounds up to 512 like qemu-img; K/M/G suffixes
"$ED" "$T/r.qcow2" create 1000 >/dev/null 2>&1
info_is round-up "$T/r.qcow2" virtual-size=1024
"$ED" "$T/s.qcow2" create 3G >/dev/null 2>&1
info_is suffix "$T/s.qcow2" virtual-size=3221225472

# backing files: raw and qcow2, relative names, probed format, size taken over
qemu-img create -f raw "$T/base.raw" 5M >/dev/null
qemu-img create -f qcow2 "$T/base.qcow2" 7M >/dev/null
"$ED" "$T/ov1.qcow2" create 10M --backing base.raw --backing-format raw >/dev/null 2>&1
info_is backing-raw "$T/ov1.qcow2" backing-filename=base.raw backing-filename-format=raw virtual-size=10485760
qcheck check-backing-raw "$T/ov1.qcow2"
"$ED" "$T/ov2.qcow2" create --backing base.qcow2 >/dev/null 2>&1
info_is backing-qcow2-size "$T/ov2.qcow2" backing-filename=base.qcow2 backing-filename-format=qcow2 virtual-size=7340032
qcheck check-backing-qcow2 "$T/ov2.qcow2"
"$ED" "$T/ov3.qcow2" create 1M --backing base.qcow2 --compat 0.10 --cluster-size 512 >/dev/null 2>&1
info_is backing-v2-512 "$T/ov3.qcow2" backing-filename=base.qcow2 backing-filename-format=qcow2 compat=0.10 cluster-size=512
qcheck check-backing-v2-512 "$T/ov3.qcow2"
# the overlay reads the backing data (qemu-io through the chain)
qemu-io -f qcow2 -c 'write -P 0x5a 0 64k' "$T/base.qcow2" >/dev/null
out=$(qemu-io -f qcow2 -c 'read -P 0x5a 0 64k' "$T/ov2.qcow2" 2>&1)
case "$out" in *"read 65536/65536"*) ok backing-reads ;; *) notok backing-reads "$out" ;; esac

# the bytes equal qemu-img's for the same options (file length aside:
# qemu ends the file inside the L1 cluster, we end it on a cluster edge)
same_as_qemu() {
	n=$1 sz=$2 eo=$3 qo=$4
	rm -f "$T/e.qcow2" "$T/q.qcow2"
	# shellcheck disable=SC2086
	"$ED" "$T/e.qcow2" create "$sz" $eo >/dev/null 2>&1
	qemu-img create -f qcow2 -o "$qo" "$T/q.qcow2" "$sz" >/dev/null
	qs=$(stat -c %s "$T/q.qcow2")
	if cmp -n "$qs" "$T/e.qcow2" "$T/q.qcow2" >/dev/null 2>&1; then ok "same-bytes-$n"
	else notok "same-bytes-$n" "$(cmp -n "$qs" "$T/e.qcow2" "$T/q.qcow2" 2>&1)"; fi
}
same_as_qemu default 100M "" "compat=1.1"
same_as_qemu v2 100M "--compat 0.10" "compat=0.10"
same_as_qemu 4k 1G "--cluster-size 4K" "cluster_size=4096"
same_as_qemu lazy-rb8 1G "--lazy-refcounts --refcount-bits 8" "lazy_refcounts=on,refcount_bits=8"
same_as_qemu extl2 1G "--extended-l2" "extended_l2=on"
same_as_qemu rb1 1G "--refcount-bits 1" "refcount_bits=1"

# raw
"$ED" "$T/x.raw" create 3M --format raw >/dev/null 2>&1
expect_eq raw-size "$(stat -c %s "$T/x.raw" 2>/dev/null)" 3145728
info_is raw-info "$T/x.raw" format=raw virtual-size=3145728

# refused like qemu-img
refuse() {
	n=$1; shift
	rm -f "$T/bad.qcow2"
	if "$ED" "$T/bad.qcow2" create "$@" >/dev/null 2>&1; then notok "refuse-$n" "accepted"; else ok "refuse-$n"; fi
}
refuse lazy-v2 1M --compat 0.10 --lazy-refcounts
refuse rb8-v2 1M --compat 0.10 --refcount-bits 8
refuse extl2-v2 1M --compat 0.10 --extended-l2
refuse extl2-8k 1M --extended-l2 --cluster-size 8K
refuse cs-256 1M --cluster-size 256
refuse cs-4m 1M --cluster-size 4M
refuse cs-3k 1M --cluster-size 3K
refuse rb3 1M --refcount-bits 3
refuse rb128 1M --refcount-bits 128
refuse too-big 200G --cluster-size 512
refuse no-size
refuse bfmt-alone 1M --backing-format raw
refuse missing-backing 1M --backing nonexistent.qcow2
refuse bad-compat 1M --compat 2.0

# resize: relative sizes, shrink over data needs --shrink, over nothing not
"$ED" "$T/rs.qcow2" create 10M >/dev/null 2>&1
printf 'x' > "$T/one"
"$ED" "$T/rs.qcow2" write 9437184 "$T/one" >/dev/null 2>&1
"$ED" "$T/rs.qcow2" resize +6M >/dev/null 2>&1
info_is resize-plus "$T/rs.qcow2" virtual-size=16777216
"$ED" "$T/rs.qcow2" resize -2M >/dev/null 2>&1
info_is resize-minus-empty "$T/rs.qcow2" virtual-size=14680064
if "$ED" "$T/rs.qcow2" resize 5M >/dev/null 2>&1; then notok resize-refuses-data "shrank over data"
else ok resize-refuses-data; fi
info_is resize-refused-unchanged "$T/rs.qcow2" virtual-size=14680064
"$ED" "$T/rs.qcow2" resize 5M --shrink >/dev/null 2>&1
info_is resize-shrink "$T/rs.qcow2" virtual-size=5242880
qcheck resize-check "$T/rs.qcow2"
"$ED" "$T/rs.raw" create 1M --format raw >/dev/null 2>&1
"$ED" "$T/rs.raw" resize 3M >/dev/null 2>&1
expect_eq resize-raw "$(stat -c %s "$T/rs.raw")" 3145728

# --preallocation metadata: every cluster mapped, reads zeros, same map
# as qemu-img's (same bytes with extended L2 and default clusters)
for o in "" "--extended-l2" "--compat 0.10" "--cluster-size 2M"; do
	pn=pre$(echo "$o" | tr -d ' -')
	qo=$(echo "$o" | sed 's/--cluster-size /cluster_size=/; s/--compat /compat=/; s/--extended-l2/extended_l2=on/')
	rm -f "$T/$pn.e" "$T/$pn.q"
	# shellcheck disable=SC2086
	"$ED" "$T/$pn.e" create 5M --preallocation metadata $o >/dev/null 2>&1
	qemu-img create -q -f qcow2 -o "preallocation=metadata${qo:+,$qo}" "$T/$pn.q" 5M
	qcheck "$pn-check" "$T/$pn.e"
	check "$pn-compare" qemu-img compare "$T/$pn.e" "$T/$pn.q"
	expect_eq "$pn-map" "$(qemu-img map --output=json "$T/$pn.e")" "$(qemu-img map --output=json "$T/$pn.q")"
done
check prealloc-bytes-extl2 cmp "$T/preextendedl2.e" "$T/preextendedl2.q"
refuse prealloc-backing 1M --preallocation metadata --backing "$T/base.raw"
