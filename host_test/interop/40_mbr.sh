#!/bin/sh
# host_test/interop/40_mbr.sh: edqcow2's MBR partitioning against util-linux
# and parted. Ground truth comes from the tools: fdisk (DOS mode, given
# geometry) writes the reference entry bytes; sfdisk -d, sfdisk -V, fdisk -l
# and parted read our images; sfdisk and parted make the images whose dump
# we must reproduce; cmp proves that refusals write nothing.
. "$(dirname "$0")/../lib.sh"
need sfdisk fdisk parted od cmp || exit 0
[ -x "$ED_SAN" ] && E=$ED_SAN || E=$ED

# table BYTES: the 64 bytes of the four MBR entries, as hex.
table() { od -An -tx1 -j446 -N64 -v "$1" | tr -s ' \n' ' ' | sed 's/^ //;s/ $//'; }
entry() { od -An -tx1 -j$((446 + 16 * ($2 - 1))) -N16 -v "$1" | tr -s ' \n' ' ' | sed 's/^ //;s/ $//'; }
mkraw() { rm -f "$1"; truncate -s "$2" "$1"; }
# run NAME CMD...: ok when CMD succeeds (output kept in $T/out).
run() {
	n=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$n"; else notok "$n" "$(tail -n 3 "$T/out" | tr '\n' ' ')"; fi
}
# parts IMAGE: sfdisk -d's partition lines, names reduced to numbers.
parts() { sfdisk -d "$1" 2>/dev/null | grep ' : start=' | sed 's/^.*[^0-9]\([0-9]* : \)/\1/'; }
# same_dump NAME IMAGE: our dump is exactly sfdisk -d's (output and exit
# status), our list exactly fdisk -l's.
same_dump() {
	sfdisk -d "$2" >"$T/sf.txt" 2>/dev/null; a=$?
	"$E" "$2" fdisk dump >"$T/ed.txt" 2>/dev/null; b=$?
	if out=$(diff "$T/sf.txt" "$T/ed.txt") && [ $a -eq $b ]; then ok "$1-dump"
	else notok "$1-dump" "status $a/$b $(printf '%s' "$out" | head -n 6 | tr '\n' ' ')"; fi
	fdisk -l "$2" >"$T/fl.txt" 2>&1
	"$E" "$2" fdisk list >"$T/el.txt" 2>&1
	if out=$(diff "$T/fl.txt" "$T/el.txt"); then ok "$1-list"; else
		notok "$1-list" "$(printf '%s' "$out" | head -n 6 | tr '\n' ' ')"; fi
}
# parted_agrees NAME IMAGE: parted's numbers, starts, ends, sizes and kinds
# are the ones in our dump.
parted_agrees() {
	want=$("$E" "$2" fdisk dump | sed -n 's/^.*[^0-9]\([0-9]*\) : start= *\([0-9]*\), size= *\([0-9]*\), type=\([0-9a-f]*\).*/\1 \2 \3 \4/p' |
		while read -r n s c t; do
			k=primary; [ "$n" -ge 5 ] && k=logical
			case $t in 5|f|85) k=extended ;; esac
			echo "$n ${s}s $((s + c - 1))s ${c}s $k"
		done | sort -n)
	got=$(parted -s "$2" unit s print 2>/dev/null | awk '$1 ~ /^[0-9]+$/ {print $1, $2, $3, $4, $5}' | sort -n)
	expect_eq "$1" "$got" "$want"
}
# refused NAME IMAGE CMD...: CMD fails and IMAGE is byte-identical after.
refused() {
	n=$1 img=$2; shift 2
	cp "$img" "$T/before"
	if "$@" >"$T/out" 2>&1; then notok "$n" "was accepted"
	elif ! cmp -s "$img" "$T/before"; then notok "$n" "image changed"
	elif ! grep -q . "$T/out"; then notok "$n" "no error message"
	else ok "$n"; fi
}

# refused_sparse NAME IMAGE CMD...: as refused, for a huge sparse image:
# same size, same allocated blocks, same first MiB.
refused_sparse() {
	n=$1 img=$2; shift 2
	before="$(stat -c '%s %b' "$img") $(head -c 1048576 "$img" | od -An -tx1 | cksum)"
	if "$@" >"$T/out" 2>&1; then notok "$n" "was accepted"
	elif [ "$before" != "$(stat -c '%s %b' "$img") $(head -c 1048576 "$img" | od -An -tx1 | cksum)" ]; then
		notok "$n" "image changed"
	elif ! grep -q . "$T/out"; then notok "$n" "no error message"
	else ok "$n"; fi
}

# --- the seed's case, byte for byte (issue text and fdisk -c=dos agree) ------
mkraw "$T/seed.img" 2M
run seed-create "$E" "$T/seed.img" fdisk create PrimaryPartition 2032128
expect_eq seed-entry "$(entry "$T/seed.img" 1)" "80 01 01 00 0e 0f 3f 03 3f 00 00 00 81 0f 00 00"
mkraw "$T/seed-ref.img" 2M
printf 'o\nn\np\n1\n63\n4031\nt\ne\na\nw\n' | fdisk -c=dos -H 16 -S 63 "$T/seed-ref.img" >/dev/null 2>&1
expect_eq seed-vs-fdisk "$(table "$T/seed.img")" "$(table "$T/seed-ref.img")"
expect_eq seed-magic "$(od -An -tx1 -j510 -N2 "$T/seed.img" | tr -d ' ')" "55aa"
run seed-sfdisk-V sfdisk -V "$T/seed.img"
same_dump seed "$T/seed.img"
parted_agrees seed-parted "$T/seed.img"

# --- geometry bands and CHS overflow against fdisk with the band's heads ------
# band BYTES HEADS START1 END1 START2 END2: our default geometry for a disk of
# BYTES must be HEADS/63, so our entries equal fdisk -c=dos -H HEADS -S 63's.
band() {
	sz=$1 h=$2
	mkraw "$T/band.img" "$sz"
	mkraw "$T/band-ref.img" "$sz"
	"$E" "$T/band.img" fdisk create PrimaryPartition $((($4 - $3 + 1) * 512)) --start "$3" --type 83 --no-bootable >"$T/out" 2>&1 &&
	"$E" "$T/band.img" fdisk create PrimaryPartition $((($6 - $5 + 1) * 512)) --start "$5" --type 83 >>"$T/out" 2>&1 ||
		{ notok "band-$sz" "$(tr '\n' ' ' <"$T/out")"; return; }
	printf 'o\nn\np\n1\n%s\n%s\nn\np\n2\n%s\n%s\nw\n' "$3" "$4" "$5" "$6" |
		fdisk -c=dos -H "$h" -S 63 "$T/band-ref.img" >/dev/null 2>&1
	expect_eq "band-$sz-${h}heads" "$(table "$T/band.img")" "$(table "$T/band-ref.img")"
}
s16=$((1024 * 16 * 63)) s32=$((1 << 21)) s64=$((1 << 22)) s128=$((1 << 23))
band $((s16 * 512)) 16 63 1000 2000 $((s16 - 1))
band $((s16 * 512 + 512)) 32 63 1000 2000 $s16
band $((s32 * 512)) 32 63 99999 100000 $((s32 - 1))
band $((s32 * 512 + 512)) 64 63 99999 100000 $s32
band $((s64 * 512)) 64 63 4031 4032 $((s64 - 1))
band $((s64 * 512 + 512)) 128 63 4031 4032 $s64
band $((s128 * 512)) 128 63 8063 8064 $((s128 - 1))
band $((s128 * 512 + 512)) 255 63 8063 8064 $s128
band 10737418240 255 63 2048062 17000000 20971519
# --geometry overrides the band: 100 MiB would be 16 heads
geom() {
	mkraw "$T/geo.img" 100M
	mkraw "$T/geo-ref.img" 100M
	"$E" "$T/geo.img" fdisk create PrimaryPartition $(((50000 - 63) * 512)) --start 63 \
		--type 83 --no-bootable --geometry "$1/$2" >"$T/out" 2>&1 ||
		{ notok "geometry-$1-$2" "$(tr '\n' ' ' <"$T/out")"; return; }
	printf 'o\nn\np\n1\n63\n49999\nw\n' | fdisk -c=dos -H "$1" -S "$2" "$T/geo-ref.img" >/dev/null 2>&1
	expect_eq "geometry-$1-$2" "$(entry "$T/geo.img" 1)" "$(entry "$T/geo-ref.img" 1)"
}
geom 255 63
geom 64 32
geom 4 17
# past cylinder 1023 with 255/63 both CHS triples are FE FF FF
expect_eq chs-overflow "$(entry "$T/band.img" 2 | cut -d' ' -f2-4,6-8)" "fe ff ff fe ff ff"

# --- our images, read by sfdisk -d, sfdisk -V, fdisk -l and parted ------------
mkraw "$T/ours.img" 100M
ours_ops() { # the same edits for the raw and the qcow2 image
	$1 fdisk create PrimaryPartition 20M &&
	$1 fdisk create ExtendedPartition 60M &&
	$1 fdisk create LogicalPartition 10M &&
	$1 fdisk create LogicalPartition 4M --type 83 &&
	$1 fdisk create LogicalPartition 1M --type 82 --align 1M &&
	$1 fdisk create PrimaryPartition 2M --align 1M --type 0c &&
	$1 fdisk delete 6 &&
	$1 fdisk create LogicalPartition 6M --type 7 &&
	$1 fdisk set 5 --type 83 &&
	$1 fdisk set 3 --bootable &&
	$1 fdisk set 1 --no-bootable &&
	$1 fdisk signature 0xdeadbeef
}
ed_ours() { "$E" "$T/ours.img" "$@"; }
run ours-build ours_ops ed_ours
run ours-sfdisk-V sfdisk -V "$T/ours.img"
same_dump ours "$T/ours.img"
parted_agrees ours-parted "$T/ours.img"
expect_eq ours-count "$(sfdisk -d "$T/ours.img" | grep -c ' : start=')" 6
expect_eq ours-signature "$("$E" "$T/ours.img" fdisk signature)" 0xdeadbeef
# a 1 MiB-aligned layout and a 4 GiB+ disk with CHS overflow
mkraw "$T/big.img" 9G
run big-build sh -c "'$E' '$T/big.img' fdisk create PrimaryPartition 1G --align 1M --type 83 &&
	'$E' '$T/big.img' fdisk create ExtendedPartition 7G --align 1M &&
	'$E' '$T/big.img' fdisk create LogicalPartition 2G --align 1M --type 83 &&
	'$E' '$T/big.img' fdisk create LogicalPartition 3G --align 1M --type 8e &&
	'$E' '$T/big.img' fdisk create LogicalPartition 1G --type 82"
run big-sfdisk-V sfdisk -V "$T/big.img"
same_dump big "$T/big.img"
parted_agrees big-parted "$T/big.img"

# --- images made by sfdisk and parted: our dump is sfdisk -d -----------------
sf() { mkraw "$T/sf-$1.img" "$2"; printf "$3" | sfdisk "$T/sf-$1.img" >/dev/null 2>&1 || notok "sf-$1-make" "sfdisk failed"; same_dump "sf-$1" "$T/sf-$1.img"; }
sf plain 100M 'label: dos\n,10M,L,*\n,20M,S\n,,c\n'
sf logical 100M 'label: dos\n,10M,83,*\n,20M,L\n,,E\n,5M,L\n,5M,7\n,3M,c\n,,fd\n'
sf tiny 3M 'label: dos\n,100K\n,,E\n,10K\n,20K,b\n,\n'
sf empty 10M 'label: dos\n'
sf four 100M 'label: dos\n,10M\n,10M\n,10M\n,10M\n'
sf gaps 100M 'label: dos\nlabel-id: 0xcafe\n2: start=4096, size=2048, type=83\n4: start=10000, size=40000, type=f, bootable\n5: start=12000, size=100, type=7\n'
sf order 64M 'label: dos\n1: start=60000, size=2048, type=83\n2: start=2048, size=2048, type=ef\n3: start=8192, size=2048, type=a5\n'
mkraw "$T/pd.img" 64M
parted -s "$T/pd.img" mklabel msdos mkpart primary ext2 1MiB 10MiB \
	mkpart extended 10MiB 60MiB mkpart logical 11MiB 20MiB \
	mkpart logical 21MiB 30MiB mkpart logical 40MiB 59MiB set 1 boot on 2>/dev/null
same_dump parted "$T/pd.img"
mkraw "$T/pd2.img" 64M
parted -s "$T/pd2.img" mklabel msdos mkpart primary fat32 2048s 40000s \
	mkpart primary linux-swap 40960s 60000s mkpart extended 65536s 131071s \
	mkpart logical 67584s 80000s 2>/dev/null
same_dump parted2 "$T/pd2.img"
mkraw "$T/none.img" 1M
same_dump nolabel "$T/none.img"
# a hand-made chain: data in the second entry, an empty EBR without 55 AA
# in the middle (libfdisk omits it), odd status bytes and empty entries
if need python3; then
	mkraw "$T/hand.img" 10M
	python3 - "$T/hand.img" <<'PY'
import struct, sys
f = open(sys.argv[1], 'r+b')
def ent(st, ty, start, cnt): return bytes([st, 0, 0, 0, ty, 0, 0, 0]) + struct.pack('<II', start, cnt)
def sec(lba, entries, magic=True):
    f.seek(lba * 512 + 446)
    for e in entries: f.write(e)
    if magic: f.seek(lba * 512 + 510); f.write(b'\x55\xaa')
sec(0, [ent(0x12, 0x83, 2048, 2048), ent(0, 0x0f, 8192, 10000), ent(0x80, 0, 0, 0), ent(0, 0, 5, 0)])
sec(8192, [ent(0, 5, 1000, 3000), ent(0, 0x83, 10, 100)])
sec(9192, [ent(0, 0, 0, 0), ent(0, 5, 2000, 500)], magic=False)
sec(10192, [ent(0x80, 7, 5, 50)])
PY
	same_dump handmade "$T/hand.img"
fi

# --- dump -> apply rebuilds the table; apply places like sfdisk -----------------
for src in "$T/sf-logical.img" "$T/pd.img" "$T/ours.img" "$T/sf-gaps.img" "$T/sf-tiny.img"; do
	b=$(basename "$src" .img)
	sz=$(stat -c %s "$src")
	mkraw "$T/rt.img" "$sz"
	"$E" "$src" fdisk dump >"$T/script" 2>&1
	if ! "$E" "$T/rt.img" fdisk apply "$T/script" >"$T/out" 2>&1; then
		notok "roundtrip-$b" "$(tr '\n' ' ' <"$T/out")"; continue; fi
	expect_eq "roundtrip-$b" "$(parts "$T/rt.img")" "$(parts "$src")"
	expect_eq "roundtrip-$b-id" "$(sfdisk -d "$T/rt.img" | grep label-id)" "$(sfdisk -d "$src" | grep label-id)"
	run "roundtrip-$b-V" sfdisk -V "$T/rt.img"
done
# parity: the same script through sfdisk and through us gives the same table
parity() {
	mkraw "$T/p1.img" "$2"; mkraw "$T/p2.img" "$2"
	printf "$3" | sfdisk "$T/p1.img" >/dev/null 2>&1
	printf "$3" | "$E" "$T/p2.img" fdisk apply - >"$T/out" 2>&1 || { notok "apply-$1" "$(tr '\n' ' ' <"$T/out")"; return; }
	expect_eq "apply-$1" "$(sfdisk -d "$T/p2.img" | sed "s|$T/p2.img|X|")" "$(sfdisk -d "$T/p1.img" | sed "s|$T/p1.img|X|")"
}
parity unnamed 100M 'label: dos\nlabel-id: 0x12345678\n,10M,L,*\n,20M\n,,E\n,5M\n,5M,7\n,3M,c\n'
parity rounding 100M 'label-id: 0x1\n,1500K\n,3000K,S\n,+,E\n,3001\n,5000\n,2M\n'
parity named 100M 'label-id: 0xabc\nunit: sectors\n\nx1 : start=2048, size=4096, type=83\nx3 : start=10000, size=50000, type=f\nx5 : start=12048, size=4000, type=82\nx6 : start=20000, size=4000, type=83, bootable\n'
parity mixed 100M 'label-id: 0x1\nstart=4096, size=8192, type=linux\nstart=20000, type=Ex\nstart=30000, size=100, type=swap\n,1M,uefi\n'
parity tiny 2M 'label-id: 0x1\n,100K\n,,E\n,10K\n,\n'
parity big 3G 'label-id: 0x1\n,1G,c\n,1G,Ex\n,,L\n'
parity logical-first 100M 'label-id: 0x2\n,,E\n,10M\n,10M\n'

# --- refusals write nothing ------------------------------------------------------
mkraw "$T/r.img" 16M
ed_r() { "$E" "$T/r.img" "$@"; }
run refuse-setup sh -c "'$E' '$T/r.img' fdisk create PrimaryPartition 2M &&
	'$E' '$T/r.img' fdisk create ExtendedPartition 8M &&
	'$E' '$T/r.img' fdisk create LogicalPartition 1M &&
	'$E' '$T/r.img' fdisk create LogicalPartition 1M &&
	'$E' '$T/r.img' fdisk create PrimaryPartition 1M --align 1M"
xs=$(sfdisk -d "$T/r.img" | sed -n 's/.*2 : start= *\([0-9]*\),.*/\1/p')
refused refuse-overlap "$T/r.img" "$E" "$T/r.img" fdisk create PrimaryPartition 1M --start 100
refused refuse-too-big "$T/r.img" "$E" "$T/r.img" fdisk create PrimaryPartition 10M
refused refuse-second-ext "$T/r.img" "$E" "$T/r.img" fdisk create ExtendedPartition 1M
refused refuse-no-space "$T/r.img" "$E" "$T/r.img" fdisk create LogicalPartition 7M
refused refuse-logical-at-ebr "$T/r.img" "$E" "$T/r.img" fdisk create LogicalPartition 1K --start $((xs + 1))
refused refuse-delete-missing "$T/r.img" "$E" "$T/r.img" fdisk delete 9
refused refuse-type-to-ext "$T/r.img" "$E" "$T/r.img" fdisk set 1 --type 5
refused refuse-bad-size "$T/r.img" "$E" "$T/r.img" fdisk create LogicalPartition 1000
printf 'label: dos\n,10M\n1: start=4096, size=100\n' >"$T/bad.script"
refused refuse-apply-twice "$T/r.img" "$E" "$T/r.img" fdisk apply "$T/bad.script"
printf 'label: dos\nstart=2048, size=4096\nstart=4000, size=4096\n' >"$T/bad.script"
refused refuse-apply-overlap "$T/r.img" "$E" "$T/r.img" fdisk apply "$T/bad.script"
printf 'label: dos\nstart=200000, size=2000000\n' >"$T/bad.script"
refused refuse-apply-past-end "$T/r.img" "$E" "$T/r.img" fdisk apply "$T/bad.script"
for bad in 'start=2048, size=100, uuid=1234' ',10M\nlabel-id: 0x1' 'colour: blue\n,1M' ',1M,zz' ',1M,L,?' ',1M,L,*,extra' \
	'5: start=4096, size=100' ',,E\n7: start=40000, size=100' 'start=100K7, size=1'; do
	printf "$bad\n" >"$T/bad.script"
	i=$((${i:-0} + 1))
	refused "refuse-script-$i" "$T/r.img" "$E" "$T/r.img" fdisk apply "$T/bad.script"
done
refused refuse-fifth-primary "$T/sf-four.img" "$E" "$T/sf-four.img" fdisk create PrimaryPartition 1M
mkraw "$T/r2.img" 4M
refused refuse-logical-without-ext "$T/r2.img" "$E" "$T/r2.img" fdisk create LogicalPartition 1M
head -c 300 /dev/zero >"$T/bad.bin"
refused refuse-bootcode-size "$T/r.img" "$E" "$T/r.img" bootcode "$T/bad.bin"
head -c 2M /dev/zero >"$T/payload"
refused refuse-payload-too-big "$T/r.img" "$E" "$T/r.img" partition 5 write "$T/payload"
refused refuse-payload-extended "$T/r.img" "$E" "$T/r.img" partition 2 write "$T/bad.bin"
# 32-bit LBAs: nothing may end past 2 TiB, even on a bigger disk
mkraw "$T/huge.img" 3T
refused_sparse refuse-past-2tib "$T/huge.img" "$E" "$T/huge.img" fdisk create PrimaryPartition 1G --start 4294000000
refused_sparse refuse-size-2tib "$T/huge.img" "$E" "$T/huge.img" fdisk create PrimaryPartition 2T
run huge-max sh -c "printf ',,L\n' | '$E' '$T/huge.img' fdisk apply -"
expect_eq huge-max-end "$(parts "$T/huge.img")" "1 : start=        2048, size=  4294965248, type=83"
same_dump huge "$T/huge.img"
rm -f "$T/huge.img"
# a protective MBR is reported as GPT (41_gpt.sh tests GPT editing)
mkraw "$T/gpt.img" 10M
printf 'label: gpt\n,1M\n' | sfdisk "$T/gpt.img" >/dev/null 2>&1
expect_eq gpt-list "$("$E" "$T/gpt.img" fdisk list 2>/dev/null | grep Disklabel)" "Disklabel type: gpt"
refused gpt-no-mbr-options "$T/gpt.img" "$E" "$T/gpt.img" fdisk create PrimaryPartition 1M --geometry 16/63

# --- boot code and payloads ------------------------------------------------------
cp "$T/ours.img" "$T/bc.img"
head -c 512 /dev/urandom >"$T/code512"
head -c 446 "$T/code512" >"$T/code446"
head -c 440 "$T/code512" >"$T/code440"
for n in 440 446 512; do
	run "bootcode-$n" "$E" "$T/bc.img" bootcode "$T/code$n"
	expect_eq "bootcode-$n-code" "$(head -c 440 "$T/bc.img" | od -An -tx1 | tr -d ' \n')" \
		"$(head -c 440 "$T/code512" | od -An -tx1 | tr -d ' \n')"
	expect_eq "bootcode-$n-rest" "$(tail -c +441 "$T/bc.img" | head -c 72 | od -An -tx1 | tr -d ' \n')" \
		"$(tail -c +441 "$T/ours.img" | head -c 72 | od -An -tx1 | tr -d ' \n')"
done
head -c 300000 /dev/urandom >"$T/payload"
run payload-write "$E" "$T/bc.img" partition 5 write "$T/payload" --offset 4096
"$E" "$T/bc.img" partition 5 read 4096 300000 >"$T/back" 2>"$T/out"
run payload-read cmp "$T/payload" "$T/back"
s5=$(sfdisk -d "$T/bc.img" | sed -n 's/.*5 : start= *\([0-9]*\),.*/\1/p')
dd if="$T/bc.img" bs=512 skip=$((s5 + 8)) count=586 2>/dev/null | head -c 300000 >"$T/back2"
run payload-on-disk cmp "$T/payload" "$T/back2"
"$E" "$T/bc.img" partition 1 read >"$T/whole" 2>"$T/out"
expect_eq payload-whole-size "$(stat -c %s "$T/whole")" $((20 * 1048576))
if "$E" "$T/bc.img" partition 5 read 10485000 1000 >/dev/null 2>&1; then notok payload-read-bounds "read past the end"; else ok payload-read-bounds; fi
run payload-sfdisk-V sfdisk -V "$T/bc.img"

# --- qcow2: the seed's own image, and qemu-img check after every operation -------
if need qemu-img; then
	q=$T/seed.qcow2
	qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4096 "$q" 2M
	run qcow2-seed-create "$E" "$q" fdisk create PrimaryPartition 2032128
	qcheck qcow2-seed-check "$q"
	qemu-img convert -O raw "$q" "$T/seedq.raw"
	expect_eq qcow2-seed-entry "$(entry "$T/seedq.raw" 1)" "80 01 01 00 0e 0f 3f 03 3f 00 00 00 81 0f 00 00"
	expect_eq qcow2-seed-same-as-raw "$(table "$T/seedq.raw")" "$(table "$T/seed.img")"
	q=$T/ops.qcow2
	qemu-img create -q -f qcow2 "$q" 100M
	i=0
	qop() {
		i=$((i + 1))
		run "qcow2-op$i-$1" "$E" "$q" "$@"
		qcheck "qcow2-op$i-check" "$q"
	}
	ours_ops qop
	qop bootcode "$T/code446"
	qop partition 5 write "$T/payload" --offset 4096
	qemu-img convert -O raw "$q" "$T/ops.raw"
	expect_eq qcow2-same-table-as-raw "$(parts "$T/ops.raw")" "$(parts "$T/bc.img")"
	# (a name ending in a digit gets "p" before the partition number)
	expect_eq qcow2-dump-is-sfdisk "$("$E" "$q" fdisk dump 2>&1 | sed "s|$q|X|;s|^Xp|X|")" \
		"$(sfdisk -d "$T/ops.raw" | sed "s|$T/ops.raw|X|")"
	expect_eq qcow2-bootcode "$(head -c 446 "$T/ops.raw" | od -An -tx1 | tr -d ' \n')" \
		"$(head -c 446 "$T/bc.img" | od -An -tx1 | tr -d ' \n')"
	# the raw image edqcow2 exports is read by the util-linux tools and parted
	run qcow2-export "$E" "$q" convert "$T/ops-ed.raw" -O raw
	run qcow2-export-sfdisk-V sfdisk -V "$T/ops-ed.raw"
	same_dump qcow2-export "$T/ops-ed.raw"
	parted_agrees qcow2-export-parted "$T/ops-ed.raw"
	run qcow2-export-same cmp "$T/ops-ed.raw" "$T/ops.raw"
	"$E" "$q" partition 5 read 4096 300000 >"$T/qback" 2>"$T/out"
	run qcow2-payload-read cmp "$T/payload" "$T/qback"
	"$E" "$T/rt.img" fdisk dump >"$T/script" 2>/dev/null
	qop fdisk apply "$T/script"
	refused qcow2-refuse-overlap "$q" "$E" "$q" fdisk create PrimaryPartition 1M --start 100
	refused qcow2-refuse-payload "$q" "$E" "$q" partition 1 write "$T/payload" --offset 104857000
	refused qcow2-refuse-bad-script "$q" "$E" "$q" fdisk apply "$T/bad.script"
fi
