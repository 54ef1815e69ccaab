#!/bin/sh
# host_test/interop/75_qimg_spellings.sh: qemu-img's spellings beside the
# seed's: word order, -f/-o/-b/-F/-O/-p/-q, sizes (parsed as qemu-img
# parses them), --version; each qemu-img form must give what the seed form
# gives and what qemu-img itself makes.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io python3 || exit 0
cd "$T" || exit 1

# fields IMAGE: the qemu-img info --output=json fields that describe how
# an image was made (not its file name or allocation).
fields() {
	qemu-img info --output=json "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
d = j.get("format-specific", {}).get("data", {})
print(j["format"], j["virtual-size"], j.get("cluster-size"), j.get("backing-filename"),
      j.get("backing-filename-format"), d.get("compat"), d.get("lazy-refcounts"),
      d.get("refcount-bits"), d.get("extended-l2"), d.get("compression-type"))'
}

# twin NAME QEMU-IMG-CREATE-ARGS...: `edqcow2 create ARGS` (qemu-img's
# order) and `qemu-img create ARGS` make images with the same info fields,
# and both pass qemu-img check.
twin() {
	n=$1; shift
	rm -f e.img q.img
	if ! out=$("$ED" create "$@" 2>&1); then notok "twin-$n" "$out"; return; fi
	mv "$(ls -t | grep -v '^q\.' | head -1)" e.img 2>/dev/null
	qemu-img create -q "$@" >/dev/null 2>&1 || { notok "twin-$n" "qemu-img refused"; return; }
	mv "$(ls -t | grep -v '^e\.img$' | head -1)" q.img
	expect_eq "twin-$n" "$(fields e.img)" "$(fields q.img)"
	case $(fields e.img) in qcow2*) qcheck "twin-check-$n" e.img ;; esac
}
twin plain -f qcow2 d1.qcow2 16M
twin cluster -f qcow2 -o cluster_size=4096 d2.qcow2 16M
twin opts -f qcow2 -o cluster_size=16k,refcount_bits=8,lazy_refcounts=on,extended_l2=on d3.qcow2 1.5G
twin compat -f qcow2 -o compat=0.10 d4.qcow2 100M
twin raw -f raw d5.raw 1M
twin prealloc -f qcow2 -o preallocation=metadata,cluster_size=64k d6.qcow2 5M
twin zlib -f qcow2 -o compression_type=zlib d7.qcow2 2M
twin zstd -f qcow2 -o compression_type=zstd d7z.qcow2 2M
qemu-img create -q -f qcow2 base.qcow2 8M
twin backing -f qcow2 -b base.qcow2 -F qcow2 d8.qcow2
twin backing-o -f qcow2 -o backing_file=base.qcow2,backing_fmt=qcow2 d9.qcow2 8M

# The seed's order and qemu-img's make byte-identical images.
"$ED" s.qcow2 create 16M --cluster-size 4096 --lazy-refcounts
"$ED" create -f qcow2 -o cluster_size=4096,lazy_refcounts=on q.qcow2 16M
check order-create-same cmp s.qcow2 q.qcow2
"$ED" s2.qcow2 create 16M -f qcow2 -o cluster_size=4096,lazy_refcounts=on
check order-seed-with-o cmp s2.qcow2 q.qcow2

# Every read command, both orders, same output.
qemu-io -c 'write -P 7 64k 64k' q.qcow2 >/dev/null
for c in "info" "info --output=json" "map --output=json" "check" "check --output=json" "read 65536 16"; do
	# shellcheck disable=SC2086
	a=$("$ED" q.qcow2 $c 2>&1); set -- $c; cmd=$1; shift
	# options before the image, its other words after it
	case ${1:-} in -*) b=$("$ED" "$cmd" "$@" q.qcow2 2>&1) ;; *) b=$("$ED" "$cmd" q.qcow2 "$@" 2>&1) ;; esac
	c2=$("$ED" "$cmd" -f qcow2 q.qcow2 "$@" 2>&1)
	expect_eq "order-$cmd-$#" "$b" "$a"
	expect_eq "order-f-$cmd-$#" "$c2" "$a"
done
# an existing file named like a command is an image (the seed's order)
cp q.qcow2 info
expect_eq order-file-named-info "$("$ED" info info | head -1)" "image: info"
rm -f info

# fdisk in qemu-img's order: the image first after the command
"$ED" create -f raw f1.img 4M && "$ED" create -f raw f2.img 4M
"$ED" f1.img fdisk create PrimaryPartition 1M --type 83 >/dev/null
"$ED" fdisk --type 83 f2.img create PrimaryPartition 1M >/dev/null
check fdisk-order cmp f1.img f2.img

# convert: qemu-img's order, -O, -o, -p on every output format
"$ED" convert -O raw q.qcow2 c1.raw && qemu-img convert -O raw q.qcow2 c2.raw
check convert-raw-order cmp c1.raw c2.raw
check convert-raw-p "$ED" convert -p -O raw q.qcow2 c3.raw
check convert-raw-p-same cmp c1.raw c3.raw
check convert-qcow2-o "$ED" convert -p -O qcow2 -o cluster_size=4096,compat=0.10 q.qcow2 c4.qcow2
expect_eq convert-qcow2-o-fields "$(fields c4.qcow2 | cut -d' ' -f3,6)" "4096 0.10"
check convert-qcow2-same qemu-img compare q.qcow2 c4.qcow2
"$ED" q.qcow2 convert c5.qcow2 -O qcow2 -p >/dev/null
check convert-seed-p qemu-img compare q.qcow2 c5.qcow2
# snapshot -l, resize in qemu-img's order
qemu-img snapshot -c s1 q.qcow2
expect_eq snapshot-l "$("$ED" snapshot -l q.qcow2)" "$("$ED" q.qcow2 snapshot list)"
"$ED" resize q.qcow2 +1M
expect_eq resize-order "$(qemu-img info --output=json q.qcow2 | grep '"virtual-size"')" '    "virtual-size": 17825792,'
# -q silences, errors still speak
expect_eq check-q "$("$ED" check -q q.qcow2)" ""
# -U is accepted
check force-share "$ED" info -U q.qcow2

# refusals: non-zero exit, a message, nothing made
refuse() {
	n=$1; shift
	if out=$("$@" 2>&1); then notok "refuse-$n" "exit 0: $out"
	elif [ -z "$out" ]; then notok "refuse-$n" "no message"
	else ok "refuse-$n"; fi
}
refuse bad-o-key "$ED" create -f qcow2 -o bogus=1 r1.qcow2 1M
refuse bad-o-value "$ED" create -f qcow2 -o lazy_refcounts=maybe r2.qcow2 1M
refuse bad-cluster "$ED" create -f qcow2 -o cluster_size=3000 r3.qcow2 1M
refuse zstd-v2 "$ED" create -f qcow2 -o compression_type=zstd,compat=0.10 r4.qcow2 1M
refuse prealloc-full "$ED" create -f qcow2 -o preallocation=full r5.qcow2 1M
refuse wrong-f "$ED" info -f raw q.qcow2
refuse wrong-f-raw "$ED" info -f qcow2 c1.raw
refuse unknown-f "$ED" info -f vmdk q.qcow2
refuse no-image "$ED" info
refuse two-inputs "$ED" convert -O raw q.qcow2 c1.raw out.raw
refuse bad-size "$ED" create -f qcow2 r6.qcow2 1.5
expect_eq refusals-made-nothing "$(ls r*.qcow2 2>/dev/null)" ""

# --version, --help
check version "$ED" --version
expect_eq version-text "$("$ED" --version | cut -d' ' -f1-2)" "edqcow2 version"
expect_eq help-lists-compare "$("$ED" --help | grep -c '^  compare\|^  measure')" 2

# Sizes: the bytes qemu's parser gives (qemu-io writes exactly that many)
# against `edqcow2 create -f raw` (no rounding there).
for s in 0 1 511 1k 1K 1.5k 1.3k 1.1k 1.7k 0.1k 0.0005k 0.0004k 1.k 1. 1.0 \
	 1.9999999999k 1b 1B 100b 0x10 0x200 010 +1k 1m 1.25M 0.3M 1M; do
	want=$(qemu-io -f raw -c "write 0 $s" c1.raw 2>&1 | sed -n 's/^wrote \([0-9]*\)\/.*/\1/p')
	rm -f sz.raw
	"$ED" create -f raw sz.raw "$s" 2>/dev/null
	got=$(stat -c %s sz.raw 2>/dev/null || echo refused)
	expect_eq "size-$s" "$got" "${want:-refused}"
done
# Large and refused sizes, through measure -O raw (qemu rounds to 512).
for s in 1.5G 2T 1.5T 1P 1.1E 7.99E 1e 1.5e 8E 16E 1.5 2.5b .5k 1e3 1Z -1 1,5k; do
	want=$(qemu-img measure -O raw --size "$s" --output=json 2>/dev/null | sed -n 's/.*"required": \([0-9-]*\).*/\1/p')
	got=$("$ED" measure -O raw --size "$s" --output=json 2>/dev/null | sed -n 's/.*"required": \([0-9-]*\).*/\1/p')
	expect_eq "size-measure-$s" "${got:-refused}" "${want:-refused}"
done
