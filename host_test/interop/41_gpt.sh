#!/bin/sh
# host_test/interop/41_gpt.sh: edqcow2's GPT against util-linux, gdisk and
# parted. sfdisk applies the same scripts to raw twins (its sfdisk -d is
# the reference); sfdisk and sgdisk make disks whose dump and list we must
# reproduce; sgdisk -v must find no problem in anything we write (before
# and after resizes); parted must read our partitions; cmp proves that
# refusals write nothing; damaged headers and arrays are read back.
. "$(dirname "$0")/../lib.sh"
need sfdisk fdisk sgdisk parted od cmp || exit 0
[ -x "$ED_SAN" ] && E=$ED_SAN || E=$ED

mkraw() { rm -f "$1"; truncate -s "$2" "$1"; }
run() {
	n=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$n"; else notok "$n" "$(tail -n 3 "$T/out" | tr '\n' ' ')"; fi
}
# norm IMAGE: sfdisk -d with the image name replaced (and, with NOIDS=1,
# the random label-id and uuids dropped).
norm() {
	sfdisk -d "$1" 2>&1 | sed "s|$1|X|g" |
		if [ "${NOIDS:-}" = 1 ]; then sed 's/, uuid=[0-9A-F-]*//;s/^label-id: .*/label-id: -/'; else cat; fi
}
# same_dump NAME IMAGE: our dump is sfdisk -d's, our list fdisk -l's.
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
# sgv NAME IMAGE: sgdisk -v finds no problem.
sgv() {
	out=$(sgdisk -v "$2" 2>&1)
	case $out in
	*"No problems found"*) ok "$1" ;;
	*) notok "$1" "$(printf '%s' "$out" | grep -v '^$' | head -n 4 | tr '\n' ' ')" ;;
	esac
}
# parted_agrees NAME IMAGE: parted's numbers, starts, ends and sizes are
# the ones in our dump.
parted_agrees() {
	want=$("$E" "$2" fdisk dump | sed -n 's/^.*[^0-9]\([0-9]*\) : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2 \3/p' |
		while read -r n s c; do echo "$n ${s}s $((s + c - 1))s ${c}s"; done | sort -n)
	got=$(parted -s "$2" unit s print 2>/dev/null | awk '$1 ~ /^[0-9]+$/ {print $1, $2, $3, $4}' | sort -n)
	expect_eq "$1" "$got" "$want"
}
# refused NAME IMAGE CMD...: CMD fails with a message, IMAGE byte-identical.
refused() {
	n=$1 img=$2; shift 2
	cp "$img" "$T/before"
	if "$@" >"$T/out" 2>&1; then notok "$n" "was accepted"
	elif ! cmp -s "$img" "$T/before"; then notok "$n" "image changed"
	elif ! grep -q . "$T/out"; then notok "$n" "no error message"
	else ok "$n"; fi
}
# parity NAME SIZE SCRIPT: sfdisk and edqcow2 apply SCRIPT to twins; the
# tables are the same (ids too when the script gives them all: IDS=1).
parity() {
	mkraw "$T/p1.img" "$2"; mkraw "$T/p2.img" "$2"
	printf "$3" | sfdisk -q "$T/p1.img" >/dev/null 2>"$T/sferr" ||
		{ notok "parity-$1" "sfdisk refused: $(head -n 2 "$T/sferr" | tr '\n' ' ')"; return; }
	printf "$3" | "$E" "$T/p2.img" fdisk apply - >"$T/out" 2>&1 ||
		{ notok "parity-$1" "$(tr '\n' ' ' <"$T/out")"; return; }
	if [ "${IDS:-}" = 1 ]; then expect_eq "parity-$1" "$(norm "$T/p2.img")" "$(norm "$T/p1.img")"
	else expect_eq "parity-$1" "$(NOIDS=1 norm "$T/p2.img")" "$(NOIDS=1 norm "$T/p1.img")"; fi
	case $3 in *"label: gpt"*) sgv "parity-$1-sgdisk-v" "$T/p2.img" ;; esac
}

# --- scripts: edqcow2 places and writes what sfdisk does ----------------------
parity basic 100M 'label: gpt\n,10M,U\n,20M,L\nsize=5M, type=S, name="hello world", attrs="RequiredPartition LegacyBIOSBootable GUID:50,63"\n,,H\n'
parity positional 64M 'label: gpt\n2048,6144,L\n8192,8192,S\n20000,,U\n'
parity spaces 64M 'label: gpt\n4096 1M L\n8192;2M;S\n start=12288  size=1M  type=H\n'
parity spellings 64M 'label: gpt\nId=L, size=1M\ntype=S, size=1M\nType=uefi, size=1M\ntype="Linux filesystem", size=1M\ntype=ebd0a0a2-b9e5-4433-87c0-68b6b72699c7, size=1M\n'
parity plusminus 64M 'label: gpt\nstart=+4096, size=+3M\nstart=-16384, size=-2M\n,+\n'
parity sectors 64M 'label: gpt\nstart=2048, size=3000\nsize=5000\nsize=2047\nsize=1\n,1500K\n,3001K\n'
parity largest 100M 'label: gpt\nstart=100000, size=1000\n,1M\n,1M\nstart=2048, size=4096\n,,L\n'
parity named 64M 'label: gpt\nunit: sectors\n\nx3 : start=2048, size=4096, type=L\nx1 : start=8192, size=4096, type=S\nx7 : start=20000, size=100\n'
parity headers 64M 'label: gpt\nlabel-id: 01234567-89AB-CDEF-0123-456789ABCDEF\nfirst-lba: 64\nlast-lba: 100000\ntable-length: 8\n,1M\nstart=64, size=100\nx8 : start=99000, size=1001\n'
parity tiny 2M 'label: gpt\n,100K\n,10K,S\n,\n'
parity small-table 16M 'label: gpt\ntable-length: 4\n,1M\n,1M\n,1M\n,1M\n'
parity big 3T 'label: gpt\n,1G,U\nstart=4294967296, size=1073741824\n,,L\n'
IDS=1 parity ids 64M 'label: gpt\nlabel-id: AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE\nx5 : size=1M, type=U, uuid=55555555-0000-4000-8000-000000000005\nstart=4096,size=1M,uuid=11111111-2222-3333-4444-555555555555,name="\\xc3\\xa9t\\xc3\\xa9 a\\x22b\\x5cc"\nuuid=C0FFEE00-0000-4000-8000-000000000001, size=1M, attrs="GUID:48"\n'
rm -f "$T/p1.img"
# dos scripts the reader must take as sfdisk does (old dumps' empty slots)
parity old-dump 64M 'label: dos\nunit: sectors\n\n/dev/sdc1 : start=     2048, size=    10240, Id=83, bootable\n/dev/sdc2 : start=        0, size=        0, Id= 0\n/dev/sdc3 : start=    20480, size=    10240, Id=82\n/dev/sdc4 : start=        0, size=        0, Id= 0\n'
parity old-dump-unnamed 64M 'start=0, size=0, Id=0\n,1M\nstart= 0, size= 0, Id= 0\n,2M,S\n'
parity dos-plus 64M 'label: dos\n+4096,+2M,L\nsize=-1M, Type=S\n'
parity dos-spellings 64M 'label: dos\nId=83, size=1M\nType=82, size=1M\ntype=c, size=1M, bootable\n20480,2048,L\n'
parity dos-spaces 64M 'label: dos\n2048 6144 L *\n8192;8192;S\n start=20000  size=1M  type=7\n'
parity dos-named-gaps 64M 'label: dos\nlabel-id: 0x1234\n/dev/x3 : start=20000, size=2000, Id=83\n/dev/x1 : start=2048, size=2048, Id=c, bootable\n'


# --- round trips: dump -> apply gives the same table, ids included -----------
rt() {
	"$E" "$2" fdisk dump >"$T/script" 2>"$T/out" || { notok "roundtrip-$1" "dump failed"; return; }
	mkraw "$T/rt.img" "$(stat -c %s "$2")"
	"$E" "$T/rt.img" fdisk apply "$T/script" >"$T/out" 2>&1 ||
		{ notok "roundtrip-$1" "$(tr '\n' ' ' <"$T/out")"; return; }
	expect_eq "roundtrip-$1" "$(norm "$T/rt.img")" "$(norm "$2")"
	sgv "roundtrip-$1-sgdisk-v" "$T/rt.img"
}

# --- disks made by sfdisk and sgdisk: our dump is sfdisk -d, list fdisk -l ----
mkraw "$T/sf.img" 100M
printf 'label: gpt\n,10M,U\n,20M,L\nsize=5M, type=S, name="swap space", attrs="RequiredPartition NoBlockIOProtocol GUID:48,60"\nx9 : start=150000, size=2000, type=21686148-6449-6E6F-744E-656564454649\n' |
	sfdisk -q "$T/sf.img" >/dev/null 2>&1
same_dump sfdisk "$T/sf.img"
rt sfdisk "$T/sf.img"
mkraw "$T/sg.img" 100M
sgdisk -n 1:2048:+10M -t 1:ef00 -c 1:"EFI system" -n 2:0:+1M -t 2:ef02 \
	-n 3:0:+20M -t 3:8304 -n 5:0:+8M -t 5:8200 -A 5:set:2 -n 4:0:0 -t 4:0700 \
	"$T/sg.img" >/dev/null 2>&1
same_dump sgdisk "$T/sg.img"
rt sgdisk "$T/sg.img"
mkraw "$T/sg2.img" 3M
sgdisk -n 1:34:+100K -t 1:8300 -n 2:0:0 -t 2:a19d880f-05fc-4d3b-a006-743f0f84911e "$T/sg2.img" >/dev/null 2>&1
same_dump sgdisk-small "$T/sg2.img"
mkraw "$T/empty.img" 10M
printf 'label: gpt\n' | sfdisk -q "$T/empty.img" >/dev/null 2>&1
same_dump sfdisk-empty "$T/empty.img"

# --- our disks: sgdisk -v, parted, boot code kept, --seed reproducible -------
mkraw "$T/ours.img" 200M
head -c 440 /dev/urandom >"$T/code"
dd if="$T/code" of="$T/ours.img" conv=notrunc 2>/dev/null
ours() {
	"$E" "$1" fdisk create-label gpt --seed 7 &&
	"$E" "$1" fdisk create PrimaryPartition 64M --type U --name ESP --seed 7 &&
	"$E" "$1" fdisk create PrimaryPartition 1M --type 21686148-6449-6E6F-744E-656564454649 --seed 7 &&
	"$E" "$1" fdisk create PrimaryPartition 20M --type "Linux root (x86-64)" --seed 7 &&
	"$E" "$1" fdisk create PrimaryPartition 10M --type S --start 180000 --seed 7 &&
	"$E" "$1" fdisk delete 2 &&
	"$E" "$1" fdisk create PrimaryPartition 512K --type "BIOS boot" --bootable --seed 7 &&
	"$E" "$1" fdisk set 3 --name "root fs" --attrs "RequiredPartition GUID:63" &&
	"$E" "$1" fdisk set 4 --type H --uuid 12345678-1234-1234-1234-123456789ABC --no-bootable &&
	"$E" "$1" fdisk set 1 --bootable
}
run ours-build ours "$T/ours.img"
sgv ours-sgdisk-v "$T/ours.img"
same_dump ours "$T/ours.img"
parted_agrees ours-parted "$T/ours.img"
expect_eq ours-bootcode "$(head -c 440 "$T/ours.img" | od -An -tx1 | tr -d ' \n')" "$(od -An -tx1 "$T/code" | tr -d ' \n')"
expect_eq ours-pmbr "$(od -An -tx1 -j446 -N16 "$T/ours.img" | tr -s ' ' | sed 's/^ //')" "00 00 02 00 ee ff ff ff 01 00 00 00 ff 3f 06 00"
expect_eq ours-table "$(norm "$T/ours.img" | sed -n 's/^\(X[0-9]*\) : start= *\([0-9]*\), size= *\([0-9]*\), type=\([0-9A-F-]*\).*/\1 \2 \3 \4/p')" \
"X1 2048 131072 C12A7328-F81F-11D2-BA4B-00A0C93EC93B
X2 133120 1024 21686148-6449-6E6F-744E-656564454649
X3 135168 40960 4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
X4 180000 20480 933AC7E1-2EB4-4F13-B844-0E14E2AEF915"
expect_eq ours-fields "$(sfdisk -d "$T/ours.img" | grep -o 'name=.*\|attrs=.*\|uuid=12345678[^,]*' | tr '\n' ' ')" \
	'name="ESP", attrs="LegacyBIOSBootable" attrs="LegacyBIOSBootable" name="root fs", attrs="RequiredPartition GUID:63" uuid=12345678-1234-1234-1234-123456789ABC '
mkraw "$T/ours2.img" 200M
dd if="$T/code" of="$T/ours2.img" conv=notrunc 2>/dev/null
run ours-rebuild ours "$T/ours2.img"
run ours-seed-reproducible cmp "$T/ours.img" "$T/ours2.img"
rt ours "$T/ours.img"

# --- partition N write/read through the GPT -----------------------------------
head -c 300000 /dev/urandom >"$T/payload"
run payload-write "$E" "$T/ours.img" partition 3 write "$T/payload" --offset 4096
"$E" "$T/ours.img" partition 3 read 4096 300000 >"$T/back" 2>"$T/out"
run payload-read cmp "$T/payload" "$T/back"
dd if="$T/ours.img" bs=512 skip=$((135168 + 8)) count=586 2>/dev/null | head -c 300000 >"$T/back2"
run payload-on-disk cmp "$T/payload" "$T/back2"
head -c 524289 /dev/zero >"$T/big"
refused payload-too-big "$T/ours.img" "$E" "$T/ours.img" partition 2 write "$T/big"
refused payload-no-partition "$T/ours.img" "$E" "$T/ours.img" partition 9 write "$T/code"
sgv payload-sgdisk-v "$T/ours.img"

# --- refusals write nothing -----------------------------------------------------------
r=$T/ours.img
bad() { printf "$2" >"$T/bad.script"; refused "refuse-$1" "$r" "$E" "$r" fdisk apply "$T/bad.script"; }
bad overlap 'label: gpt\nstart=2048, size=4096\nstart=4000, size=4096\n'
bad before-first 'label: gpt\nfirst-lba: 2048\nstart=40, size=100\n'
bad past-last 'label: gpt\nlast-lba: 100000\nstart=99000, size=2000\n'
bad past-end 'label: gpt\nstart=409590, size=100\n'
bad too-many 'label: gpt\ntable-length: 2\n,1M\n,1M\n,1M\n'
bad number-too-big 'label: gpt\ntable-length: 4\nx5 : start=2048, size=100\n'
bad twice 'label: gpt\nx1 : start=2048, size=100\nx1 : start=4096, size=100\n'
bad bad-type-guid 'label: gpt\nsize=1M, type=0FC63DAF-8483-4772-8E79-3D69D8477DEZ\n'
bad bad-uuid 'label: gpt\nsize=1M, uuid=1234\n'
bad dup-uuid 'label: gpt\nsize=1M, uuid=11111111-2222-3333-4444-555555555555\nsize=1M, uuid=11111111-2222-3333-4444-555555555555\n'
bad name-too-long 'label: gpt\nsize=1M, name="abcdefghijklmnopqrstuvwxyz0123456789x"\n'
bad unknown-alias 'label: gpt\nsize=1M, type=Q\n'
bad mbr-hex-type 'label: gpt\nsize=1M, type=83\n'
bad bad-attrs 'label: gpt\nsize=1M, attrs="GUID:47"\n'
bad bad-label-id 'label: gpt\nlabel-id: 1234-5678\n,1M\n'
bad first-after-last 'label: gpt\nfirst-lba: 500000\n,1M\n'
bad start-zero 'label: gpt\nstart=0, size=100\n'
refused refuse-create-no-space "$r" "$E" "$r" fdisk create PrimaryPartition 150M
refused refuse-create-used "$r" "$E" "$r" fdisk create PrimaryPartition 1M --start 2100
refused refuse-create-logical "$r" "$E" "$r" fdisk create LogicalPartition 1M
refused refuse-create-mbr-type "$r" "$E" "$r" fdisk create PrimaryPartition 1M --type 83
refused refuse-create-geometry "$r" "$E" "$r" fdisk create PrimaryPartition 1M --geometry 16/63
refused refuse-set-missing "$r" "$E" "$r" fdisk set 7 --name x
refused refuse-set-long-name "$r" "$E" "$r" fdisk set 1 --name abcdefghijklmnopqrstuvwxyz0123456789x
refused refuse-set-bad-uuid "$r" "$E" "$r" fdisk set 1 --uuid 12345678-1234-1234-1234-12345678
refused refuse-set-dup-uuid "$r" "$E" "$r" fdisk set 1 --uuid 12345678-1234-1234-1234-123456789ABC
refused refuse-delete-missing "$r" "$E" "$r" fdisk delete 9
refused refuse-label-exists "$r" "$E" "$r" fdisk create-label gpt
refused refuse-label-dos-exists "$r" "$E" "$r" fdisk create-label dos
refused refuse-signature-bad "$r" "$E" "$r" fdisk signature 0x1234

# --- create-label ----------------------------------------------------------------
mkraw "$T/cl.img" 32M
run label-new "$E" "$T/cl.img" fdisk create-label gpt --label-id 0F0F0F0F-1111-2222-3333-444444444444
expect_eq label-new-dump "$(norm "$T/cl.img" | head -n 6 | tr '\n' ' ')" \
	"label: gpt label-id: 0F0F0F0F-1111-2222-3333-444444444444 device: X unit: sectors first-lba: 2048 last-lba: 65502 "
sgv label-new-sgdisk-v "$T/cl.img"
run label-create "$E" "$T/cl.img" fdisk create PrimaryPartition 10M
expect_eq label-create-aligned "$(norm "$T/cl.img" | grep -o 'start= *[0-9]*, size= *[0-9]*' | tr -s ' ')" "start= 2048, size= 20480"
run label-force-dos "$E" "$T/cl.img" fdisk create-label dos --force --label-id 0xabcd
expect_eq label-force-dos-dump "$(sfdisk -d "$T/cl.img" 2>&1 | head -n 2 | tr '\n' ' ')" "label: dos label-id: 0x0000abcd "
expect_eq label-force-dos-no-gpt "$(od -An -c -j512 -N8 "$T/cl.img" | tr -d ' ')$(tail -c 512 "$T/cl.img" | head -c 8 | od -An -c | tr -d ' ')" "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
run label-force-gpt "$E" "$T/cl.img" fdisk create-label gpt --force --table-length 16
expect_eq label-table-length "$(sfdisk -d "$T/cl.img" | grep table-length)" "table-length: 16"
sgv label-force-gpt-sgdisk-v "$T/cl.img"
run label-signature "$E" "$T/cl.img" fdisk signature 01234567-89ab-cdef-0123-456789abcdef
expect_eq label-signature-read "$("$E" "$T/cl.img" fdisk signature)" "01234567-89AB-CDEF-0123-456789ABCDEF"

# --- recovery: a damaged primary header or array; the backup is read ----------------
cp "$T/sf.img" "$T/dmg.img"
printf 'X' | dd of="$T/dmg.img" bs=1 seek=$((512 + 60)) conv=notrunc 2>/dev/null
"$E" "$T/dmg.img" fdisk dump >"$T/dmg.dump" 2>"$T/dmg.err"
expect_eq recover-header-dump "$(sed "s|$T/dmg.img|X|" "$T/dmg.dump")" "$(norm "$T/sf.img")"
if grep -q 'The primary GPT table is corrupt, but the backup appears OK' "$T/dmg.err" &&
	grep -q 'header at LBA 1 is invalid' "$T/dmg.err"; then ok recover-header-reported
else notok recover-header-reported "$(tr '\n' ' ' <"$T/dmg.err")"; fi
expect_eq recover-header-sgdisk "$(sgdisk -p "$T/dmg.img" 2>/dev/null | grep -c '^ *[0-9]  *[0-9]')" 4
run recover-header-repair "$E" "$T/dmg.img" fdisk set 2 --name repaired
sgv recover-header-repaired-sgdisk-v "$T/dmg.img"
expect_eq recover-header-repaired-primary "$(sfdisk -d "$T/dmg.img" 2>&1 | grep -c 'name="repaired"')" 1
cp "$T/sf.img" "$T/dmg2.img"
printf 'X' | dd of="$T/dmg2.img" bs=1 seek=$((1024 + 128 * 100)) conv=notrunc 2>/dev/null
"$E" "$T/dmg2.img" fdisk list >"$T/dmg2.list" 2>"$T/dmg2.err"
if grep -q 'The primary GPT table is corrupt' "$T/dmg2.err" &&
	grep -q 'entry array CRC does not match' "$T/dmg2.err"; then ok recover-array-crc-reported
else notok recover-array-crc-reported "$(tr '\n' ' ' <"$T/dmg2.err")"; fi
expect_eq recover-array-dump "$("$E" "$T/dmg2.img" fdisk dump 2>/dev/null | sed "s|$T/dmg2.img|X|")" "$(norm "$T/sf.img")"
cp "$T/sf.img" "$T/dmg3.img"
printf 'XX' | dd of="$T/dmg3.img" bs=1 seek=$((512 + 60)) conv=notrunc 2>/dev/null
printf 'XX' | dd of="$T/dmg3.img" bs=1 seek=$((100 * 1048576 - 512 + 60)) conv=notrunc 2>/dev/null
refused recover-both-damaged "$T/dmg3.img" "$E" "$T/dmg3.img" fdisk dump
refused recover-both-damaged-no-edit "$T/dmg3.img" "$E" "$T/dmg3.img" fdisk create PrimaryPartition 1M
run recover-both-force-label "$E" "$T/dmg3.img" fdisk create-label gpt --force
sgv recover-both-force-label-sgdisk-v "$T/dmg3.img"

# --- resize: the backup follows the end of the disk --------------------------------
cp "$T/sf.img" "$T/rs.img"
run resize-grow "$E" "$T/rs.img" resize +50M
sgv resize-grow-sgdisk-v "$T/rs.img"
expect_eq resize-grow-last-lba "$(sfdisk -d "$T/rs.img" | grep last-lba)" "last-lba: $((150 * 2048 - 34))"
expect_eq resize-grow-parts "$(NOIDS=1 norm "$T/rs.img" | grep start=)" "$(NOIDS=1 norm "$T/sf.img" | grep start=)"
refused resize-shrink-cuts "$T/rs.img" "$E" "$T/rs.img" resize 70M --shrink
run resize-shrink "$E" "$T/rs.img" resize 80M --shrink
sgv resize-shrink-sgdisk-v "$T/rs.img"
expect_eq resize-shrink-size "$(stat -c %s "$T/rs.img")" $((80 * 1048576))

# a raw disk grown behind our back: listed as fdisk lists it (its warnings
# too), and the next edit moves the backup to the end as fdisk would
cp "$T/sf.img" "$T/grown.img"
truncate -s +10M "$T/grown.img"
same_dump grown "$T/grown.img"
run grown-edit "$E" "$T/grown.img" fdisk set 1 --name moved
sgv grown-edit-sgdisk-v "$T/grown.img"

# --- 4096-byte sectors: fdisk -b 4096 reads what we write ---------------------------
mkraw "$T/4k.img" 64M
run 4kn-build sh -c "'$E' '$T/4k.img' fdisk create-label gpt --sector-size 4096 &&
	'$E' '$T/4k.img' fdisk create PrimaryPartition 8M --type U --sector-size 4096 &&
	'$E' '$T/4k.img' fdisk create PrimaryPartition 16M --sector-size 4096"
fdisk -b 4096 -l "$T/4k.img" >"$T/fl.txt" 2>&1
"$E" "$T/4k.img" fdisk list --sector-size 4096 >"$T/el.txt" 2>&1
if out=$(diff "$T/fl.txt" "$T/el.txt"); then ok 4kn-list; else notok 4kn-list "$(printf '%s' "$out" | head -n 6 | tr '\n' ' ')"; fi
expect_eq 4kn-layout "$(od -An -c -j4096 -N8 "$T/4k.img" | tr -d ' ')" "EFIPART"
# without --sector-size the 4096-byte table is found all the same
"$E" "$T/4k.img" fdisk list >"$T/el.txt" 2>&1
if out=$(diff "$T/fl.txt" "$T/el.txt"); then ok 4kn-list-found; else notok 4kn-list-found "$(printf '%s' "$out" | head -n 6 | tr '\n' ' ')"; fi
run 4kn-payload "$E" "$T/4k.img" partition 2 write "$T/payload"
dd if="$T/4k.img" bs=4096 skip=$((256 + 2048)) count=74 2>/dev/null | head -c 300000 >"$T/back4k"
run 4kn-payload-on-disk cmp "$T/payload" "$T/back4k"
run 4kn-resize "$E" "$T/4k.img" resize +16M
expect_eq 4kn-backup-moved "$(tail -c 4096 "$T/4k.img" | head -c 8)" "EFI PART"
"$E" "$T/4k.img" fdisk list --sector-size 4096 >"$T/el.txt" 2>&1
expect_eq 4kn-resized-clean "$(grep -c 'not on the end' "$T/el.txt")" 0

# --- inside qcow2: the same table as sfdisk on a raw twin ------------------------
if need qemu-img; then
	q=$T/g.qcow2
	qemu-img create -q -f qcow2 "$q" 100M
	script='label: gpt\nlabel-id: 5EED5EED-0000-4000-8000-000000000000\n,10M,U,,uuid=5EED5EED-0000-4000-8000-000000000001\n,20M,L,,uuid=5EED5EED-0000-4000-8000-000000000002\n'
	script='label: gpt\nlabel-id: 5EED5EED-0000-4000-8000-000000000000\nsize=10M, type=U, uuid=5EED5EED-0000-4000-8000-000000000001, name="EFI"\nsize=20M, uuid=5EED5EED-0000-4000-8000-000000000002\n'
	printf "$script" >"$T/q.script"
	run qcow2-apply "$E" "$q" fdisk apply "$T/q.script"
	qcheck qcow2-apply-check "$q"
	qemu-img convert -O raw "$q" "$T/q.raw"
	mkraw "$T/q-ref.img" 100M
	sfdisk -q "$T/q-ref.img" <"$T/q.script" >/dev/null 2>&1
	expect_eq qcow2-same-as-sfdisk "$(norm "$T/q.raw" | sed "s|$T/q.raw|X|")" "$(norm "$T/q-ref.img")"
	run qcow2-same-bytes cmp "$T/q.raw" "$T/q-ref.img"
	sgv qcow2-sgdisk-v "$T/q.raw"
	expect_eq qcow2-dump "$("$E" "$q" fdisk dump | sed "s|$q|X|;s|^Xp|X|")" "$(norm "$T/q-ref.img")"
	run qcow2-create "$E" "$q" fdisk create PrimaryPartition 5M --type S --seed 1
	run qcow2-payload "$E" "$q" partition 3 write "$T/payload"
	qcheck qcow2-create-check "$q"
	run qcow2-resize "$E" "$q" resize +20M
	qcheck qcow2-resize-check "$q"
	qemu-img convert -O raw "$q" "$T/q.raw"
	sgv qcow2-resize-sgdisk-v "$T/q.raw"
	parted_agrees qcow2-parted "$T/q.raw"
	"$E" "$q" partition 3 read 0 300000 >"$T/qback" 2>"$T/out"
	run qcow2-payload-read cmp "$T/payload" "$T/qback"
	refused qcow2-refuse-overlap "$q" "$E" "$q" fdisk create PrimaryPartition 1M --start 3000
fi

# --- hostile headers (valid CRCs, absurd fields) under the sanitizers --------------
if need python3; then
	mkraw "$T/h0.img" 8M
	printf 'label: gpt\n,1M\n,1M,S\n' | sfdisk -q "$T/h0.img" >/dev/null 2>&1
	i=0
	for mut in 12:4:0 12:4:4294967295 24:8:5 32:8:0 32:8:18446744073709551615 \
		40:8:0 40:8:18446744073709551615 48:8:18446744073709551615 48:8:1 \
		72:8:0 72:8:1 72:8:16383 72:8:18446744073709551615 80:4:0 80:4:4294967295 \
		80:4:65536 84:4:0 84:4:1 84:4:256 84:4:4096 84:4:2147483648 88:4:0; do
		i=$((i + 1))
		cp "$T/h0.img" "$T/h.img"
		# the primary gets the hostile field; the backup is damaged too
		python3 - "$T/h.img" "$mut" <<'PY'
import struct, sys, zlib
f = open(sys.argv[1], 'r+b')
off, size, val = (int(x) for x in sys.argv[2].split(':'))
f.seek(512); h = bytearray(f.read(512))
h[off:off + size] = val.to_bytes(size, 'little')
hs = struct.unpack_from('<I', h, 12)[0]
hs = hs if 92 <= hs <= 512 else 92
struct.pack_into('<I', h, 16, 0)
struct.pack_into('<I', h, 16, zlib.crc32(bytes(h[:hs])) & 0xffffffff)
f.seek(512); f.write(h)
f.seek(-512 + 60, 2); f.write(b'XX')
PY
		bad=""
		for cmd in "fdisk list" "fdisk dump" "fdisk create PrimaryPartition 64K" "partition 1 read 0 512"; do
			# shellcheck disable=SC2086
			"$E" "$T/h.img" $cmd >/dev/null 2>"$T/herr"; rc=$?
			if [ $rc -gt 1 ] || grep -q 'Sanitizer\|runtime error' "$T/herr"; then
				bad="$bad [$cmd: status $rc $(head -c 200 "$T/herr" | tr '\n' ' ')]"
			fi
		done
		if [ -z "$bad" ]; then ok "hostile-$mut"; else notok "hostile-$mut" "$bad"; fi
	done
fi

# --- build: a whole GPT image from a recipe, reproducibly ------------------------
head -c 100000 /dev/urandom >"$T/efi.bin"
printf 'format: qcow2\nsize: 64M\n\nlabel: gpt\nsize=8M, type=U, name="EFI", file=efi.bin\nsize=1M, type="BIOS boot"\n,,L\n' >"$T/g.recipe"
run build-gpt "$E" "$T/b1.qcow2" build "$T/g.recipe"
run build-gpt-again "$E" "$T/b2.qcow2" build "$T/g.recipe"
if need qemu-img; then
	qcheck build-gpt-check "$T/b1.qcow2"
	qemu-img convert -O raw "$T/b1.qcow2" "$T/b1.raw"
	qemu-img convert -O raw "$T/b2.qcow2" "$T/b2.raw"
	run build-gpt-reproducible cmp "$T/b1.raw" "$T/b2.raw"
	sgv build-gpt-sgdisk-v "$T/b1.raw"
	expect_eq build-gpt-layout "$(NOIDS=1 norm "$T/b1.raw" | grep -c 'start=')" 3
	"$E" "$T/b1.qcow2" partition 1 read 0 100000 >"$T/efi.back" 2>"$T/out"
	run build-gpt-payload cmp "$T/efi.bin" "$T/efi.back"
fi
printf 'format: raw\n\nlabel: gpt\nsize=8M, type=U, file=efi.bin\nsize=auto, file=efi.bin\n' >"$T/auto.recipe"
run build-gpt-auto "$E" "$T/auto.img" build "$T/auto.recipe"
sgv build-gpt-auto-sgdisk-v "$T/auto.img"
expect_eq build-gpt-auto-size "$(stat -c %s "$T/auto.img")" $((11 * 1048576))
