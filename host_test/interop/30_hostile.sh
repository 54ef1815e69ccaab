#!/bin/sh
# host_test/interop/30_hostile.sh: hostile qcow2 images, poked in the style
# of QEMU iotests 080/060 (by field name, and by raw byte offset on a 4 KiB-
# cluster image) plus seeded random flips in metadata clusters of small
# qemu-img made images. Each image goes through the SANITIZER build
# (info, map, read, convert -O raw, check, snapshot list) and every command
# must end by itself (timeout 20), print no sanitizer report, exit 0 or with
# a clean error (a message, no signal), and leave the image byte-identical.
# An image edqcow2 opens without error must be one qemu-img opens too.
# Knobs: HOSTILE_SEED (default 1), HOSTILE_FLIPS (random cases, default 150).
# Failing images are kept in $B/hostile-fail/ for reproduction.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io python3 cmp timeout || exit 0
SEED=${HOSTILE_SEED:-1}
FLIPS=${HOSTILE_FLIPS:-150}
FAILDIR=$B/hostile-fail
export ASAN_OPTIONS=exitcode=99:detect_leaks=1:print_summary=1
export UBSAN_OPTIONS=exitcode=99:print_stacktrace=1:halt_on_error=1

if [ ! -x "$ED_SAN" ]; then
	notok hostile.sanitizer-build "missing $ED_SAN (make sanitize)"
	exit 0
fi
if ! grep -q __asan_init "$ED_SAN" || ! grep -q __ubsan_handle "$ED_SAN"; then
	notok hostile.sanitizer-build "$ED_SAN is not built with ASan and UBSan"
	exit 0
fi

# ---- the python side: reads qcow2 layout, pokes fields, flips metadata ----
PY=$T/q.py
cat > "$PY" <<'EOF'
import os, random, shlex, struct, sys

def be(fmt, b, off): return struct.unpack_from(">" + fmt, b, off)[0]

class Img:
    def __init__(s, path):
        s.path = path
        s.f = open(path, "rb").read()
        f = s.f
        s.size = len(f)
        s.version = be("I", f, 4)
        s.backing_off = be("Q", f, 8)
        s.cluster_bits = be("I", f, 20)
        s.cs = 1 << s.cluster_bits
        s.l1_size = be("I", f, 36)
        s.l1_off = be("Q", f, 40)
        s.rt_off = be("Q", f, 48)
        s.rt_clusters = be("I", f, 56)
        s.nb_snap = be("I", f, 60)
        s.snap_off = be("Q", f, 64)
        s.incompat = be("Q", f, 72) if s.version >= 3 else 0
        s.hdr_len = be("I", f, 100) if s.version >= 3 else 72
        s.extl2 = bool(s.incompat & 16)
        s.l2_entry = 16 if s.extl2 else 8
        s.exts = []                    # (file offset, magic, length)
        off = s.hdr_len
        while off + 8 <= min(s.cs, s.size):
            m, l = be("I", f, off), be("I", f, off + 4)
            if m == 0: break
            s.exts.append((off, m, l))
            off += 8 + ((l + 7) & ~7)
        mask = 0x00fffffffffffe00
        s.l1 = [be("Q", f, s.l1_off + 8 * i) for i in range(s.l1_size)
                if s.l1_off + 8 * i + 8 <= s.size]
        s.l2s = sorted(set(e & mask for e in s.l1 if e & mask))
        s.rt = [be("Q", f, s.rt_off + 8 * i) for i in range(s.rt_clusters * s.cs // 8)
                if s.rt_off + 8 * i + 8 <= s.size]
        s.rbs = [e & ~(s.cs - 1) for e in s.rt if e]
        s.snaps = []                   # (entry offset, l1 off, l1 size)
        off = s.snap_off
        for i in range(min(s.nb_snap, 100)):
            if off + 40 > s.size: break
            l1o, l1s = be("Q", f, off), be("I", f, off + 8)
            idl, nl = be("H", f, off + 12), be("H", f, off + 14)
            extra = be("I", f, off + 36)
            s.snaps.append((off, l1o, l1s))
            off += (40 + extra + idl + nl + 7) & ~7
        s.snap_end = off
        s.snap_l2s = []
        for _, l1o, l1s in s.snaps:
            for i in range(l1s):
                if l1o + 8 * i + 8 <= s.size:
                    e = be("Q", f, l1o + 8 * i) & mask
                    if e: s.snap_l2s.append(e)

    def l2_entries(s):
        """(file offset of entry, entry) for every entry of the active L2s"""
        for l2 in s.l2s:
            for i in range(0, s.cs, s.l2_entry):
                if l2 + i + 8 <= s.size:
                    yield l2 + i, be("Q", s.f, l2 + i)

    def layout(s):
        v = dict(cs=s.cs, fsize=s.size, l1_off=s.l1_off, l1_size=s.l1_size,
                 rt_off=s.rt_off, hdr_len=s.hdr_len, snap_off=s.snap_off,
                 nb_snap=s.nb_snap, ext0=s.exts[0][0] if s.exts else s.hdr_len,
                 past_eof=(s.size + s.cs - 1) // s.cs * s.cs + 64 * s.cs,
                 l2_0=s.l2s[0] if s.l2s else 0, rb_0=s.rbs[0] if s.rbs else 0,
                 snap_l1=s.snaps[0][1] if s.snaps else 0)
        data = [p for p, e in s.l2_entries() if e & 0x00fffffffffffe00 and not e >> 62 & 1]
        comp = [p for p, e in s.l2_entries() if e >> 62 & 1]
        v["l2e_data"] = data[0] if data else 0
        v["l2e_data_val"] = be("Q", s.f, data[0]) if data else 0
        v["l2e_comp"] = comp[0] if comp else 0
        v["l2e_comp_val"] = be("Q", s.f, comp[0]) if comp else 0
        v["l1e_0"] = s.l1[0] if s.l1 else 0
        if comp:
            x = 62 - (s.cluster_bits - 8)
            v["comp_host"] = v["l2e_comp_val"] & ((1 << x) - 1)
        else:
            v["comp_host"] = 0
        for off, m, l in s.exts:
            v["ext_%08x" % m] = off
        return v

    def meta(s):
        """byte ranges of metadata, clipped to the file"""
        r = [(0, s.cs), (s.l1_off, s.l1_size * 8), (s.rt_off, s.rt_clusters * s.cs)]
        r += [(x, s.cs) for x in s.rbs + s.l2s + s.snap_l2s]
        if s.nb_snap: r.append((s.snap_off, s.snap_end - s.snap_off))
        r += [(l1o, l1s * 8) for _, l1o, l1s in s.snaps]
        out = []
        for o, n in r:
            n = min(n, s.size - o) if o < s.size else 0
            if n > 0: out.append((o, n))
        return out

def poke(path, script):
    """script: 'pk FMT OFF VAL; ...', big-endian FMT B/H/I/Q; OFF and VAL
    are Python expressions over the original layout (l1_off, cs, ...):
    shell arithmetic is signed 64-bit and cannot hold qcow2 flag bits"""
    v = Img(path).layout()
    with open(path, "r+b") as f:
        for clause in script.split(";"):
            words = shlex.split(clause)
            if not words: continue
            _, fmt, off, val = words
            lit = off.isdigit()
            o, x = eval(off, {}, v), eval(val, {}, v)
            if o < 104 and not lit:   # a structure the base lacks
                sys.exit("poke: no such structure in this image: " + clause)
            f.seek(o)
            f.write(struct.pack(">" + fmt, x & ((1 << (8 * struct.calcsize(fmt))) - 1)))

def flip(path, seed, case):
    img = Img(path)
    rnd = random.Random("%s/%s/%s" % (seed, os.path.basename(path), case))
    ranges = img.meta()
    what = []
    for _ in range(rnd.randint(1, 3)):
        o, n = rnd.choice(ranges)
        p = o + rnd.randrange(n)
        k = rnd.random()
        with open(path, "r+b") as f:
            f.seek(p)
            b = f.read(1)[0]
            if k < 0.7:
                bit = rnd.randrange(8)
                f.seek(p); f.write(bytes([b ^ (1 << bit)]))
                what.append("%d^%d" % (p, 1 << bit))
            elif k < 0.9 or p + 8 > img.size:
                v = rnd.randrange(256)
                f.seek(p); f.write(bytes([v]))
                what.append("%d=%d" % (p, v))
            else:
                p &= ~7
                v = rnd.choice([0, 2**64 - 1, img.size, img.size + img.cs,
                                img.cs, 2**63 | img.l1_off, 2**62 | img.size,
                                rnd.getrandbits(64)])
                f.seek(p); f.write(struct.pack(">Q", v))
                what.append("%d=q%x" % (p, v))
    print(" ".join(what))

def flipraw(path, seed):
    """1-8 single-bit flips anywhere in the first 16 4 KiB clusters, where
    header, tables and early L2s of a small image live"""
    r = random.Random(int(seed))
    meta = min(os.path.getsize(path), 16 * 4096)
    with open(path, "r+b") as f:
        for _ in range(r.randint(1, 8)):
            at = r.randrange(meta)
            f.seek(at); b = f.read(1)
            f.seek(at); f.write(bytes([b[0] ^ (1 << r.randrange(8))]))

cmd = sys.argv[1]
if cmd == "poke": poke(sys.argv[2], sys.argv[3])
elif cmd == "flip": flip(sys.argv[2], sys.argv[3], sys.argv[4])
elif cmd == "flipraw": flipraw(sys.argv[2], sys.argv[3])
EOF

# ---- base images, made by qemu-img / qemu-io ------------------------------
BASE=$T/base
mkdir -p "$BASE"
qio() { img=$1; shift; for c in "$@"; do qemu-io -f qcow2 -c "$c" "$img" >/dev/null 2>&1 || return 1; done; }
mkbase() {
	n=$1 size=$2 opts=$3; shift 3
	qemu-img create -q -f qcow2 -o "$opts" "$BASE/$n" "$size" && qio "$BASE/$n" "$@"
}
if ! {
	mkbase plain 64M cluster_size=64k "write -P 0x11 0 512" "write -P 0x22 1M 64k" \
		"write -c -P 0x33 4M 64k" "write -z 8M 64k" &&
	mkbase snap 64M cluster_size=64k "write -P 1 0 512" "write -P 3 2M 4k" &&
	qemu-img snapshot -c s1 "$BASE/snap" && qio "$BASE/snap" "write -P 2 0 512" &&
	mkbase v2 64M compat=0.10,cluster_size=64k "write -P 4 0 512" "write -c -P 5 1M 64k" &&
	mkbase small 4M cluster_size=512 "write -P 6 0 3k" "write -P 7 1M 1k" \
		"write -c -P 8 2M 512" "write -z 3M 2k" "discard 1M 512" &&
	qemu-img snapshot -c s1 "$BASE/small" && qio "$BASE/small" "write -P 9 0 1k" &&
	mkbase extl2 16M cluster_size=64k,extended_l2=on "write -P 10 0 2k" \
		"write -P 11 40k 4k" "write -z 1M 64k" "write -z 2M 8k" &&
	qemu-img create -q -f raw "$BASE/back.raw" 4M &&
	qemu-io -f raw -c "write -P 12 0 4M" "$BASE/back.raw" >/dev/null &&
	qemu-img create -q -f qcow2 -o cluster_size=64k -b back.raw -F raw "$BASE/over" 4M &&
	qio "$BASE/over" "write -P 13 64k 4k" &&
	mkbase bitmap 16M cluster_size=64k "write -P 14 0 64k" &&
	qemu-img bitmap --add "$BASE/bitmap" b0 &&
	mkbase p4k 4M cluster_size=4k "write -P 1 0 1M" "write -z 1M 64k" &&
	qemu-img snapshot -c s1 "$BASE/p4k" && qio "$BASE/p4k" "write -P 2 512k 1M" &&
	mkbase el2 4M cluster_size=16k,extended_l2=on "write -c -P 3 0 64k" \
		"write -P 4 1M 7k" "write -z 2M 2k" &&
	qemu-img create -q -f qcow2 -b p4k -F qcow2 "$BASE/top" 4M &&
	qio "$BASE/top" "write -P 5 100k 10k"
}; then
	notok hostile.make-bases "qemu-img/qemu-io could not make the base images"
	exit 0
fi

# ---- one case: run every read-only command, judge each --------------------
# run_cmd IMG CMD...: sets $why when the command misbehaves.
run_cmd() {
	rimg=$1; shift
	timeout 20 "$ED_SAN" "$rimg" "$@" > "$T/out" 2> "$T/err"
	rc=$?
	if [ $rc -eq 124 ]; then why="$*: hang (killed after 20 s)"
	elif grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|Sanitizer' "$T/err"; then
		why="$*: $(grep -m1 -E 'ERROR:|runtime error:|SUMMARY' "$T/err")"
	elif [ $rc -eq 99 ]; then why="$*: sanitizer exit"
	elif [ $rc -ge 128 ]; then why="$*: killed by signal $((rc - 128))"
	elif [ $rc -ne 0 ] && ! { [ "$1" = check ] && [ $rc -le 3 ]; } &&
	     ! grep -q edqcow2 "$T/err"; then
		why="$*: exit $rc without an error message"
	else
		return 0
	fi
	return 1
}

# judge NAME IMG [SNAPSHOT [quick]]: runs the commands (fewer when quick);
# prints nothing, sets $why ("" = ok)
judge() {
	jn=$1 img=$2 snap=${3:-}
	why="" info_rc=1
	cp "$img" "$T/orig"
	if [ -n "${4:-}" ]; then
		cmds="info|map|read 0 65536|convert $T/out.raw -O raw|check|snapshot list"
	else
		cmds="info|info --json|map|map --json|read 0 65536|read 1048063 70000"
		cmds="$cmds|convert $T/out.raw -O raw|check|check --json|snapshot list"
	fi
	oldifs=$IFS
	IFS='|'
	set -f
	set -- $cmds
	IFS=$oldifs
	set +f
	for c in "$@"; do
		# shellcheck disable=SC2086
		run_cmd "$img" $c
		r1=$?
		[ "$c" = info ] && info_rc=$rc
		[ $r1 -eq 0 ] || break
	done
	if [ -z "$why" ] && [ -n "$snap" ]; then
		for c in "read 0 65536 --snapshot $snap" "read 1048576 4096 --snapshot $snap" \
			 "map --snapshot $snap" \
			 "convert $T/out.raw -O raw --snapshot $snap"; do
			# shellcheck disable=SC2086
			run_cmd "$img" $c || break
		done
	fi
	rm -f "$T/out.raw"
	if ! cmp -s "$img" "$T/orig"; then
		why="${why:+$why; }the image changed"
	fi
	# edqcow2 opening what qemu-img refuses is a missed check
	if [ -z "$why" ] && [ "$info_rc" -eq 0 ] &&
	   ! qerr=$(qemu-img info -f qcow2 "$img" 2>&1 >/dev/null); then
		why="edqcow2 info opens it, qemu-img refuses: $(printf '%s' "$qerr" | head -n 1)"
	fi
	if [ -n "$why" ]; then
		mkdir -p "$FAILDIR"
		cp "$img" "$FAILDIR/$jn.qcow2"
		[ -f "$BASE/back.raw" ] && cp "$BASE/back.raw" "$FAILDIR/"
	fi
}

# poke NAME BASE 'pk FMT OFF VAL; ...' [SNAPSHOT]: a fresh copy of BASE with
# big-endian fields (FMT B, H, I, Q) set; OFF and VAL are Python expressions
# over the base's layout names (see Img.layout)
poke() {
	pn=$1 pb=$2 pcmd=$3 psnap=${4:-}
	I=$T/img/$pn
	mkdir -p "$T/img"
	cp "$BASE/$pb" "$I"
	cp "$BASE/back.raw" "$BASE/p4k" "$T/img/" 2>/dev/null
	if ! perr=$(python3 "$PY" poke "$I" "$pcmd" 2>&1); then
		notok "hostile.$pn" "poke failed: $perr"
		return
	fi
	judge "$pn" "$I" "$psnap"
	if [ -z "$why" ]; then ok "hostile.$pn"; else notok "hostile.$pn" "$why"; fi
	rm -f "$I"
}

# ---- iotests 080 style: header fields ------------------------------------
poke hdr_len_huge plain 'pk I 100 0xffffffff'
poke hdr_len_7fffffff plain 'pk I 100 0x7fffffff'
poke hdr_len_too_small plain 'pk I 100 72'
poke hdr_len_unaligned plain 'pk I 100 "hdr_len + 1"'
poke hdr_len_past_cluster plain 'pk I 100 "cs + 8"'
poke ext_huge_unknown plain 'pk Q 8 0xffffffffffffffff; pk I ext0 0x12345678; pk I "ext0 + 4" 0x7fffffff'
poke ext_backing_inside_ext plain 'pk I ext0 0x12345678; pk I "ext0 + 4" 0x7fffffff; pk Q 8 "ext0 + 4"; pk I 16 16'
poke ext_len_wraps plain 'pk I "ext0 + 4" 0xfffffff9'
poke ext_len_past_cluster plain 'pk I "ext0 + 4" cs'
poke ext_backing_fmt_long plain 'pk I ext0 0xe2792aca; pk I "ext0 + 4" 0xffff'
poke ext_feature_table_odd plain 'pk I "ext_6803f857 + 4" 47'
poke ext_bitmaps_huge_count bitmap 'pk I "ext_23852875 + 8" 0xffffffff'
poke ext_bitmaps_dir_past_eof bitmap 'pk Q "ext_23852875 + 24" past_eof'
poke ext_bitmaps_dir_huge bitmap 'pk Q "ext_23852875 + 16" 0xffffffffffffff00'
poke ext_bitmaps_short bitmap 'pk I "ext_23852875 + 4" 8'
poke rt_clusters_huge plain 'pk I 56 0xffffffff'
poke rt_clusters_big plain 'pk I 56 0x00020001'
poke rt_clusters_zero plain 'pk I 56 0'
poke rt_misaligned plain 'pk Q 48 0x1234567890abcdef'
poke rt_huge_offset plain 'pk Q 48 0xffffffffffff0000; pk I 56 0x7f'
poke rt_on_header plain 'pk Q 48 0'
poke rt_past_eof plain 'pk Q 48 past_eof'
poke nb_snap_huge plain 'pk I 60 0xffffffff'
poke nb_snap_7fffffff plain 'pk I 60 0x7fffffff'
poke snap_off_huge plain 'pk Q 64 0xffffffffffff0000; pk I 60 0xffff'
poke snap_off_misaligned plain 'pk Q 64 0x1234567890abcdef; pk I 60 0'
poke snap_off_misaligned_one plain 'pk Q 64 0x1234567890abcdef; pk I 60 1'
poke snap_past_eof snap 'pk Q 64 past_eof'
poke snap_on_header snap 'pk Q 64 0'
poke snap_count_past_table snap 'pk I 60 3'
poke snap_l1_unaligned snap 'pk Q snap_off 0x400200' s1
poke snap_l1_size_huge snap 'pk I "snap_off + 8" 0x10000000' s1
poke snap_l1_past_eof snap 'pk Q snap_off past_eof' s1
poke snap_l1_on_header snap 'pk Q snap_off 0' s1
poke snap_id_name_huge snap 'pk H "snap_off + 12" 0xffff; pk H "snap_off + 14" 0xffff' s1
poke snap_extra_huge snap 'pk I "snap_off + 36" 0xffffffff' s1
poke snap_l2_past_eof snap 'pk Q snap_l1 "0x8000000000000000 | past_eof"' s1
poke l1_size_huge plain 'pk I 36 0xffffffff'
poke l1_size_7fffffff plain 'pk I 36 0x7fffffff'
poke l1_off_huge plain 'pk Q 40 0x7fffffffffff0000; pk I 36 0xffff'
poke l1_off_misaligned plain 'pk Q 40 0x1234567890abcdef; pk I 36 1'
poke l1_past_eof plain 'pk Q 40 past_eof'
poke l1_on_header plain 'pk Q 40 0'
poke l1_size_zero_with_snapshot snap 'pk I 36 0' s1
poke l1_too_small small 'pk I 36 1'
poke backing_size_huge plain 'pk Q 8 0x1000; pk I 16 0xffffffff'
poke backing_name_1024 plain 'pk Q 8 0x1000; pk I 16 1024'
poke backing_off_past_eof plain 'pk Q 8 past_eof; pk I 16 10'
poke backing_off_wraps plain 'pk Q 8 0xfffffffffffffffc; pk I 16 100'
poke cluster_bits_8 plain 'pk I 20 8'
poke cluster_bits_22 plain 'pk I 20 22'
poke cluster_bits_63 plain 'pk I 20 63'
poke cluster_bits_max plain 'pk I 20 0xffffffff'
poke version_1 plain 'pk I 4 1'
poke version_4 plain 'pk I 4 4'
poke crypt_aes plain 'pk I 32 1'
poke crypt_luks plain 'pk I 32 2'
poke crypt_unknown plain 'pk I 32 3'
poke incompat_unknown_bit plain 'pk Q 72 "1 << 40"'
poke incompat_data_file plain 'pk Q 72 4'
poke incompat_zstd_no_field plain 'pk Q 72 8; pk I 100 104'
poke compression_type_bad plain 'pk Q 72 8; pk B 104 7'
poke dirty_and_corrupt plain 'pk Q 72 3'
poke refcount_order_7 plain 'pk I 96 7'
poke refcount_order_max plain 'pk I 96 0xffffffff'
poke size_max plain 'pk Q 24 0xffffffffffffffff'
poke size_2p62 plain 'pk Q 24 "1 << 62"'
poke size_zero plain 'pk Q 24 0'
poke size_unaligned plain 'pk Q 24 1000'
# ---- iotests 060/080 style: tables pointing where they must not -------------
poke l2_huge_offset plain 'pk Q l2e_data 0xbfffffffffff0000'
poke l2_huge_offset2 plain 'pk Q l2e_data 0x800000ffffff0000'
poke l2_into_l1 plain 'pk Q l1_off "0x8000000000000000 | l1_off"'
poke l2_into_header plain 'pk Q l1_off 0x8000000000000000'
poke l2_into_rt plain 'pk Q l1_off "0x8000000000000000 | rt_off"'
poke l1_entry_unaligned plain 'pk Q l1_off "0x8000000000000000 | (l2_0 + 512)"'
poke l1_entry_past_eof plain 'pk Q l1_off "0x8000000000000000 | past_eof"'
poke l1_shared_l2 small 'pk Q "l1_off + 8" l1e_0'
poke data_into_refblock plain 'pk Q l2e_data "0x8000000000000000 | rb_0"'
poke data_into_rt plain 'pk Q l2e_data "0x8000000000000000 | rt_off"'
poke data_into_own_l2 plain 'pk Q l2e_data "0x8000000000000000 | l2_0"'
poke data_unaligned plain 'pk Q l2e_data "l2e_data_val + 512"'
poke data_past_eof plain 'pk Q l2e_data "0x8000000000000000 | past_eof"'
poke data_reserved_bits plain 'pk Q l2e_data "l2e_data_val | 0x1fe"'
poke data_offset_zero_copied plain 'pk Q l2e_data 0x8000000000000000'
poke comp_past_eof plain 'pk Q l2e_comp "0x4000000000000000 | past_eof"'
poke comp_max_sectors plain 'pk Q l2e_comp "l2e_comp_val | 0x3fff000000000000"'
poke comp_into_header plain 'pk Q l2e_comp 0x4000000000000010'
poke comp_garbage_stream plain 'pk Q comp_host 0xdeadbeefdeadbeef'
poke comp_in_v2 v2 'pk Q l2e_comp "l2e_comp_val ^ 0x0000000000000100"'
poke extl2_alloc_and_zero extl2 'pk Q "l2e_data + 8" 0x0000000100000001'
poke extl2_bitmap_no_offset extl2 'pk Q l2e_data 0; pk Q "l2e_data + 8" 0x00000000ffffffff'
poke extl2_compressed_bitmap extl2 'pk Q l2e_data "0x4000000000000000 | cs"; pk Q "l2e_data + 8" 1'
poke rb_huge plain 'pk Q rt_off 0x7fffffffffff0000'
poke rb_unaligned plain 'pk Q rt_off "rb_0 + 1"'
poke rb_zero plain 'pk Q rt_off 0'
poke rb_into_l1 plain 'pk Q rt_off l1_off'
poke rb_into_rt plain 'pk Q rt_off rt_off'
poke rb_second_past_eof plain 'pk Q "rt_off + 8" past_eof'
poke refcount_zero_for_l1 plain 'pk H "rb_0 + 2 * (l1_off // cs)" 0'
poke refcount_zero_for_header plain 'pk H rb_0 0'
poke over_name_huge over 'pk I 16 0xffff'
poke over_name_past_eof over 'pk Q 8 past_eof'

# ---- iotests 080 style by raw byte offset, on the 4 KiB-cluster image ------
# OFFSET HEXBYTES; the byte count picks the field width.
rawfield() {
	python3 -c '
import sys
with open(sys.argv[1], "rb") as f:
    f.seek(int(sys.argv[2]))
    print(int.from_bytes(f.read(int(sys.argv[3])), "big") & 0x00fffffffffffe00)' "$@"
}
l1=$(rawfield "$BASE/p4k" 40 8)
rt=$(rawfield "$BASE/p4k" 48 8)
sn=$(rawfield "$BASE/p4k" 64 8)
l2=$(rawfield "$BASE/p4k" "$l1" 8)
i=0
for p in "4 00000004" "20 00000008" "20 00000016" "100 00000068" "100 00010000" \
	 "96 00000007" "36 00000000" "36 ffffffff" "40 0000000000000200" \
	 "40 00ffffffffff0000" "48 0000000000000000" "56 00000000" "56 ffffffff" \
	 "60 ffffffff" "64 0000000000000003" "8 0000000000000fff" "16 000003ff" \
	 "24 7fffffffffffffff" "72 0000000000000080" "72 0000000000000004" \
	 "32 00000001" "32 00000002" "104 07" "88 0000000000000001" \
	 "$l1 8000000000000001" "$l1 8000000000000200" "$l1 80000000ffff0000" \
	 "$l1 $(printf '%016x' $(( (1 << 63) | rt )))" \
	 "$l2 8000000000000000" "$l2 0000000000000201" "$l2 $(printf '%016x' $(( (1 << 63) | l1 )))" \
	 "$l2 4000000000000000" "$l2 7fffffffffffffff" "$rt 0000000000000200" \
	 "$sn ffffffffffffffff" "$(( sn + 8 )) ffffffff" "$(( sn + 36 )) 0000ffff" \
	 "$(( sn + 12 )) ffff"; do
	# shellcheck disable=SC2086
	set -- $p
	case ${#2} in 2) w=B ;; 4) w=H ;; 8) w=I ;; *) w=Q ;; esac
	i=$((i + 1))
	poke "raw$i" p4k "pk $w $1 0x$2" s1
done

# ---- backing chains: a loop and a very deep chain ---------------------------
mkdir -p "$T/chain"
qemu-img create -q -f qcow2 -o cluster_size=64k "$T/chain/c0" 1M
i=1
while [ $i -le 20 ]; do
	qemu-img create -q -f qcow2 -o cluster_size=64k -b "c$((i - 1))" -F qcow2 "$T/chain/c$i" 1M
	i=$((i + 1))
done
judge chain_21_deep "$T/chain/c20"
if [ -z "$why" ]; then ok hostile.chain_21_deep; else notok hostile.chain_21_deep "$why"; fi
if timeout 20 "$ED_SAN" "$T/chain/c20" read 0 512 >/dev/null 2>&1; then
	notok hostile.chain_21_deep_refused "a 21-deep chain reads (cap is HDI_QCOW2_MAX_CHAIN)"
else
	ok hostile.chain_21_deep_refused
fi
qemu-img create -q -f qcow2 -o cluster_size=64k "$T/chain/a" 1M
qemu-img create -q -f qcow2 -o cluster_size=64k -b a -F qcow2 "$T/chain/b" 1M
qemu-img rebase -u -f qcow2 -b b -F qcow2 "$T/chain/a"
judge chain_loop "$T/chain/b"
if [ -z "$why" ]; then ok hostile.chain_loop; else notok hostile.chain_loop "$why"; fi
qemu-img create -q -u -f qcow2 -o cluster_size=64k -b missing.qcow2 -F qcow2 "$T/chain/m" 1M
judge backing_missing "$T/chain/m"
if [ -z "$why" ]; then ok hostile.backing_missing; else notok hostile.backing_missing "$why"; fi

# ---- seeded random flips in metadata --------------------------------------
# FLIPS cases spread over the bases; each case flips 1-3 bits/bytes/words
# in header, L1, L2, refcount, snapshot structures of a fresh copy.
nb=7
per=$(( (FLIPS + nb - 1) / nb ))
[ "$per" -gt 0 ] || exit 0
for b in small plain snap v2 extl2 over bitmap; do
	fails=0 first=""
	k=0
	while [ $k -lt $per ]; do
		I=$T/img/flip-$b
		mkdir -p "$T/img"
		cp "$BASE/$b" "$I"
		cp "$BASE/back.raw" "$T/img/" 2>/dev/null
		what=$(python3 "$PY" flip "$I" "$SEED" "$k")
		snap=""
		case $b in small|snap) snap=s1 ;; esac
		judge "flip-$b-$SEED-$k" "$I" "$snap" quick
		if [ -n "$why" ]; then
			fails=$((fails + 1))
			[ -z "$first" ] && first="case $k (flips $what): $why"
		fi
		k=$((k + 1))
	done
	if [ $fails -eq 0 ]; then
		ok "hostile.flips.$b"
	else
		notok "hostile.flips.$b" "$fails/$per cases failed (seed $SEED), first: $first"
	fi
done

# ---- single-bit flips in the first 64 KiB, five fixed seeds per image -------
for b in p4k el2 top; do
	for seed in 1 2 3 4 5; do
		I=$T/img/rflip-$b
		mkdir -p "$T/img"
		cp "$BASE/$b" "$I"
		cp "$BASE/p4k" "$T/img/"
		python3 "$PY" flipraw "$I" "$seed"
		snap=""
		[ "$b" = el2 ] || snap=s1
		judge "rflip-$b-$seed" "$I" "$snap" quick
		if [ -z "$why" ]; then ok "hostile.rflip.$b.$seed"; else notok "hostile.rflip.$b.$seed" "$why"; fi
	done
done
