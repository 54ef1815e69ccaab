#!/bin/sh
# host_test/interop/26_qcow2_compressed_write.sh: compressed writing, zlib
# and zstd. `convert -O qcow2 -c` output passes qemu-img check with the
# counts of qemu-img convert -c's own output (byte for byte the same where
# the layout allows), equals the source under qemu-img compare and when
# qemu-img reads it out, shows compressed clusters in qemu-img map, and is
# the same for any -j; `write --compressed` matches qemu-io write -c;
# normal writes over compressed clusters; refusals leave the image alone.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io python3 || exit 0

# raw source: text (compresses), random (does not), zero clusters inside
# data, a zero run and a disk size that ends inside a cluster
python3 - "$T/src.raw" <<'EOF'
import random, sys
random.seed(26)
words = [b"alpha", b"beta", b"kernel", b"qcow2", b"cluster", b"\n", b"zstd"]
def text(n):
    b = bytearray()
    while len(b) < n:
        b += random.choice(words) + b" "
    return bytes(b[:n])
with open(sys.argv[1], "wb") as f:
    f.write(text(3 << 20))
    f.write(random.randbytes(5 << 16))      # incompressible: stored plain
    f.write(bytes(3 << 16))                 # zero clusters, written out
    f.write(text(777777))
    f.seek(9 << 20)
    f.write(text(200000))
    f.truncate((10 << 20) + 1536)           # last cluster is partial
EOF

# check counts of a qcow2 image, as qemu-img check --output=json has them
counts() {
	qemu-img check --output=json "$1" 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(j.get("corruptions", 0), j.get("leaks", 0), j["allocated-clusters"],
      j["total-clusters"], j.get("compressed-clusters", 0),
      j.get("fragmented-clusters", 0))'
}
# qemu-img map: data extents without an offset are compressed (7.2)
compressed_bytes() {
	qemu-img map --output=json "$1" | python3 -c '
import json, sys
print(sum(e["length"] for e in json.load(sys.stdin) if e["data"] and "offset" not in e))'
}
# qo OPTS: our create options in qemu-img's -o spelling
qo() {
	echo "$*" | sed 's/--cluster-size /cluster_size=/; s/--extended-l2/extended_l2=on/;
		s/--compat /compat=/; s/--refcount-bits /refcount_bits=/;
		s/--lazy-refcounts/lazy_refcounts=on/; s/ /,/g'
}

for ct in zlib zstd; do
	for o in "" "--cluster-size 4K" "--cluster-size 512" "--cluster-size 2M" \
		 "--extended-l2" "--refcount-bits 1" "--refcount-bits 2" \
		 "--lazy-refcounts" "--compat 0.10"; do
		[ "$ct" = zstd ] && [ "$o" = "--compat 0.10" ] && continue
		n=$ct$(echo "$o" | tr -d ' -')
		rm -f "$T/e.qcow2" "$T/q.qcow2"
		# shellcheck disable=SC2086
		if ! out=$("$ED" "$T/src.raw" convert "$T/e.qcow2" -O qcow2 -c \
				--compression-type $ct $o 2>&1); then
			notok "$n-convert" "$out"; continue
		fi
		qopt=$(qo $o)
		qemu-img convert -c -O qcow2 -o "compression_type=$ct${qopt:+,$qopt}" \
			"$T/src.raw" "$T/q.qcow2"
		qcheck "$n-check" "$T/e.qcow2"
		expect_eq "$n-counts-as-qemu-img" "$(counts "$T/e.qcow2")" "$(counts "$T/q.qcow2")"
		check "$n-compare" qemu-img compare -q "$T/src.raw" "$T/e.qcow2"
		expect_eq "$n-map-compressed" "$(compressed_bytes "$T/e.qcow2")" \
			"$(compressed_bytes "$T/q.qcow2")"
		rm -f "$T/out.raw"
		qemu-img convert -O raw "$T/e.qcow2" "$T/out.raw" &&
			check "$n-qemu-reads" cmp "$T/src.raw" "$T/out.raw"
		expect_eq "$n-info-type" "$(qemu-img info "$T/e.qcow2" | sed -n 's/^ *compression type: //p')" $ct
		# the file qemu-img writes is a prefix of ours (ours ends on a
		# cluster boundary), where the layout is the same
		case "$o" in
		"--cluster-size 512") ;;   # refcount blocks placed otherwise
		*) qs=$(stat -c %s "$T/q.qcow2")
		   es=$(stat -c %s "$T/e.qcow2")
		   if [ "$es" -ge "$qs" ] && cmp -s -n "$qs" "$T/e.qcow2" "$T/q.qcow2" &&
		      [ "$(tail -c +$((qs + 1)) "$T/e.qcow2" | tr -d '\0' | wc -c)" -eq 0 ]; then
			ok "$n-bytes-as-qemu-img"
		   else
			notok "$n-bytes-as-qemu-img" "ours $es bytes, qemu-img's $qs, contents differ"
		   fi ;;
		esac
	done
	# the same bytes for any number of threads
	for j in 1 2 4; do
		"$ED" "$T/src.raw" convert "$T/j$j.qcow2" -O qcow2 -c -j $j -o compression_type=$ct
	done
	check "$ct-j1-j2-same" cmp "$T/j1.qcow2" "$T/j2.qcow2"
	check "$ct-j1-j4-same" cmp "$T/j1.qcow2" "$T/j4.qcow2"
	# exports decompress in threads: the same raw file for any -j, and as
	# qemu-img's
	qemu-img convert -O raw "$T/j2.qcow2" "$T/xq.raw"
	for j in 1 2 3; do
		rm -f "$T/x$j.raw"
		"$ED" "$T/j2.qcow2" convert "$T/x$j.raw" -O raw -j $j
		check "$ct-export-j$j" cmp "$T/x$j.raw" "$T/xq.raw"
	done
	# a compressed qcow2 source, converted compressed again
	if [ "$ct" = zstd ] && ! "$ED" "$T/j1.qcow2" read 0 512 >/dev/null 2>&1; then
		echo "skip $ct-from-qcow2: this build does not read zstd clusters"
		continue
	fi
	rm -f "$T/re.qcow2"
	check "$ct-from-qcow2" "$ED" "$T/j2.qcow2" convert "$T/re.qcow2" -O qcow2 -c \
		--compression-type $ct
	check "$ct-from-qcow2-same" cmp "$T/j2.qcow2" "$T/re.qcow2"
done

# a source whose size is not whole sectors: the image is (rounded up), and
# its last cluster is compressed up to the image's end, as qemu-img does
head -c 1414577 "$T/src.raw" > "$T/odd.raw"
for ct in zlib zstd; do
	rm -f "$T/odd.qcow2" "$T/oddq.qcow2"
	check "$ct-odd-size" "$ED" "$T/odd.raw" convert "$T/odd.qcow2" -O qcow2 -c -o compression_type=$ct
	qemu-img convert -c -O qcow2 -o compression_type=$ct "$T/odd.raw" "$T/oddq.qcow2"
	qcheck "$ct-odd-size-check" "$T/odd.qcow2"
	check "$ct-odd-size-compare" qemu-img compare -q "$T/odd.qcow2" "$T/oddq.qcow2"
	expect_eq "$ct-odd-size-counts" "$(counts "$T/odd.qcow2")" "$(counts "$T/oddq.qcow2")"
done

# write --compressed against qemu-io write -c on twins
head -c 262144 "$T/src.raw" > "$T/four"
head -c 65536 /dev/urandom > "$T/rnd"
head -c 1000 /dev/urandom > "$T/small"
for ct in zlib zstd; do
	qemu-img create -q -f qcow2 -o compression_type=$ct "$T/w.qcow2" 4M
	cp "$T/w.qcow2" "$T/wq.qcow2"
	check "$ct-write-c" "$ED" "$T/w.qcow2" write --compressed 65536 "$T/four"
	check "$ct-write-c-rnd" "$ED" "$T/w.qcow2" write -c 1M "$T/rnd"
	qemu-io -c "write -c -s $T/four 65536 256k" -c "write -c -s $T/rnd 1M 64k" \
		"$T/wq.qcow2" >/dev/null
	qcheck "$ct-write-c-check" "$T/w.qcow2"
	check "$ct-write-c-compare" qemu-img compare -q "$T/w.qcow2" "$T/wq.qcow2"
	expect_eq "$ct-write-c-counts" "$(counts "$T/w.qcow2")" "$(counts "$T/wq.qcow2")"
	expect_eq "$ct-write-c-map" "$(compressed_bytes "$T/w.qcow2")" "$(compressed_bytes "$T/wq.qcow2")"
	# refused: unaligned offset, partial cluster; nothing changes
	cp "$T/w.qcow2" "$T/before"
	if "$ED" "$T/w.qcow2" write --compressed 1000 "$T/rnd" 2>/dev/null ||
	   "$ED" "$T/w.qcow2" write --compressed 0 "$T/small" 2>/dev/null; then
		notok "$ct-write-c-refused" "accepted"
	else
		check "$ct-write-c-refused" cmp "$T/w.qcow2" "$T/before"
	fi
	# a compressed write over an allocated cluster replaces it (qemu-io
	# refuses; we free the old one), and a normal write over compressed
	# clusters (whole, then partial) leaves the image clean
	check "$ct-write-c-over" "$ED" "$T/w.qcow2" write -c 65536 "$T/rnd"
	qemu-io -f qcow2 -c "write -s $T/rnd 65536 64k" "$T/wq.qcow2" >/dev/null
	check "$ct-write-over-whole" "$ED" "$T/w.qcow2" write 131072 "$T/rnd"
	qemu-io -f qcow2 -c "write -s $T/rnd 131072 64k" "$T/wq.qcow2" >/dev/null
	if [ "$ct" = zstd ] && ! "$ED" "$T/w.qcow2" read 196608 512 >/dev/null 2>&1; then
		echo "skip $ct-write-over-part: this build does not read zstd clusters"
		continue
	fi
	check "$ct-write-over-part" "$ED" "$T/w.qcow2" write 200000 "$T/small"
	qemu-io -f qcow2 -c "write -s $T/small 200000 1000" "$T/wq.qcow2" >/dev/null
	qcheck "$ct-write-over-check" "$T/w.qcow2"
	check "$ct-write-over-compare" qemu-img compare -q "$T/w.qcow2" "$T/wq.qcow2"
done

# options: -o spelling, zstd needs compat 1.1, unknown types refused
check create-o-zstd "$ED" "$T/c.qcow2" create 1M -o compression_type=zstd,cluster_size=4k
expect_eq create-o-zstd-info "$(qemu-img info --output=json "$T/c.qcow2" | python3 -c '
import json,sys; j=json.load(sys.stdin); print(j["cluster-size"], j["format-specific"]["data"]["compression-type"])')" "4096 zstd"
qemu-img create -q -f qcow2 -o compression_type=zstd,cluster_size=4k "$T/cq.qcow2" 1M
check create-zstd-header-as-qemu-img cmp -n 112 "$T/c.qcow2" "$T/cq.qcow2"
if "$ED" "$T/c2.qcow2" create 1M --compat 0.10 --compression-type zstd 2>/dev/null; then
	notok create-zstd-v2-refused "accepted"
else
	ok create-zstd-v2-refused
fi
if "$ED" "$T/c3.qcow2" create 1M --compression-type lz4 2>/dev/null; then
	notok create-lz4-refused "accepted"
else
	ok create-lz4-refused
fi
