#!/bin/sh
# Power loss after every k-th write (pending writes dropped, applied in a
# random order, or torn) and failure of the k-th read/write/flush, across
# workloads that grow the refcount table and L1, copy snapshot-shared
# clusters, overwrite compressed ones and write compressed clusters (zlib
# and zstd images), take, delete and apply snapshots, commit into a backing
# file, flatten, and downgrade to compat 0.10. Ground truth: qemu-img made
# the base images and their raw contents, and qemu-img check judges the
# results.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io || exit 0
P=$B/prog_crash
CUTS=${CRASH_CUTS:-40}
export T

mk() { # mk NAME create-options SIZE [qemu-io commands...]
	name=$1 opts=$2 size=$3; shift 3
	qemu-img create -q -f qcow2 -o "$opts" "$T/$name.qcow2" "$size" || return 1
	for c in "$@"; do qemu-io -f qcow2 -c "$c" "$T/$name.qcow2" >/dev/null || return 1; done
	qemu-img convert -O raw "$T/$name.qcow2" "$T/$name.raw"
}
# mkbase NAME: the raw backing file prog_crash finds as IMAGE.base
mkbase() { qemu-img create -q -f raw "$T/$1.qcow2.base" 1M &&
	qemu-io -f raw -c 'write -P 0x3c 0 1M' "$T/$1.qcow2.base" >/dev/null; }
mk reftable cluster_size=512,refcount_bits=64 8M 'write -P 0x5a 0 64k' &&
mk l1grow cluster_size=512 64K 'write -P 0x11 0 16k' &&
mk cow cluster_size=4096 1M 'write -P 0x21 0 640k' &&
	qemu-img snapshot -c snap1 "$T/cow.qcow2" &&
mk compressed cluster_size=65536 1M 'write -c -P 0x31 0 64k' 'write -c -P 0x32 64k 64k' \
	'write -c -P 0x33 128k 64k' 'write -c -P 0x34 192k 128k' 'write -c -P 0x35 384k 128k' &&
mk cwrite cluster_size=65536 1M 'write -c -P 0x61 0 128k' 'write -P 0x62 128k 64k' \
	'write -c -P 0x63 256k 64k' &&
mk cwrite-zstd cluster_size=65536,compression_type=zstd 1M 'write -c -P 0x71 0 128k' \
	'write -P 0x72 128k 64k' 'write -c -P 0x73 256k 64k' &&
mk basic cluster_size=65536 1M 'write -P 0x41 0 300k' &&
mk lazy cluster_size=65536,lazy_refcounts=on 1M 'write -P 0x51 0 300k' &&
mk snapcreate cluster_size=4096 1M 'write -P 0x61 0 300k' 'write -c -P 0x62 512k 64k' &&
mk snapdelete cluster_size=4096 1M 'write -P 0x71 0 640k' &&
	qemu-img snapshot -c snap1 "$T/snapdelete.qcow2" &&
	qemu-io -c 'write -P 0x72 0 100k' "$T/snapdelete.qcow2" >/dev/null &&
	qemu-img convert -O raw "$T/snapdelete.qcow2" "$T/snapdelete.raw" &&
mk snapapply cluster_size=4096 1M 'write -P 0x81 0 640k' &&
	qemu-img snapshot -c snap1 "$T/snapapply.qcow2" &&
mkbase commit && mk commit "cluster_size=4096,backing_file=$T/commit.qcow2.base,backing_fmt=raw" 1M \
	'write -P 0x91 0 300k' 'write -z 400k 64k' 'write -P 0x92 900k 100k' &&
mkbase rebase && mk rebase "cluster_size=4096,backing_file=$T/rebase.qcow2.base,backing_fmt=raw" 1M \
	'write -P 0xa1 100k 200k' 'write -z 500k 64k' &&
mkbase amend && mk amend "cluster_size=4096,backing_file=$T/amend.qcow2.base,backing_fmt=raw" 1M \
	'write -P 0xb1 0 100k' 'write -z 200k 200k' 'write -z 700k 4k' ||
	{ notok crash.setup "qemu-img could not make the base images"; exit 0; }

for w in ${CRASH_WL:-reftable l1grow cow compressed cwrite cwrite-zstd basic lazy snapcreate snapdelete snapapply commit rebase amend}; do
	# snapshot and chain workloads are sampled more thinly in make test
	c=$CUTS; case $w in snap*|commit|rebase|amend) c=$(( (CUTS + 3) / 4 )) ;; esac
	for mode in power fault-write fault-flush fault-read; do
		"$P" "$T/$w.qcow2" "$T/$w.raw" "$w" "$mode" --cuts "$c"
	done
done
