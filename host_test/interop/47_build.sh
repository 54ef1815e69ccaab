#!/bin/sh
# host_test/interop/47_build.sh: `edqcow2 OUT build RECIPE`. Ground truth
# from outside: the step-by-step edqcow2 commands (cmp), qemu-img check and
# convert (each partition's bytes against its file), sfdisk -d, cmp between
# builds; refusals leave no file behind; kills leave OUT untouched.
. "$(dirname "$0")/../lib.sh"
need qemu-img sfdisk cmp dd || exit 0
[ -x "$ED_SAN" ] && E=$ED_SAN || E=$ED
KB=$B/kernel

# run NAME CMD...: ok when CMD succeeds (output kept in $T/out).
run() {
	n=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$n"; else notok "$n" "$(tail -n 3 "$T/out" | tr '\n' ' ')"; fi
}
# parts IMAGE: sfdisk -d's partition lines of IMAGE's raw twin, numbers only.
parts() {
	qemu-img convert -O raw "$1" "$T/twin.raw" &&
	sfdisk -d "$T/twin.raw" | grep ' : start=' | sed 's/^.*[^0-9]\([0-9]* : \)/\1/'
}
# payload_is NAME IMAGE START FILE: the raw twin holds FILE at sector START,
# and `partition N read` gives it back (N = $5).
payload_is() {
	qemu-img convert -O raw "$2" "$T/twin.raw"
	sz=$(stat -c %s "$4")
	dd if="$T/twin.raw" of="$T/got" bs=512 skip="$3" count=$(( (sz + 511) / 512 )) status=none
	head -c "$sz" "$T/got" > "$T/got2"
	if cmp -s "$T/got2" "$4"; then ok "$1"; else notok "$1" "partition bytes differ from $4"; fi
	"$E" "$2" partition "$5" read 0 "$sz" > "$T/got3" 2>"$T/err"
	if cmp -s "$T/got3" "$4"; then ok "$1-read"; else notok "$1-read" "$(head -c 200 "$T/err")"; fi
}
# refused NAME LINE RECIPE [ARGS]: the build fails, names RECIPE:LINE, and
# leaves no output (nor a temporary file) behind.
refused() {
	n=$1 line=$2 rcp=$3; shift 3
	rm -rf "$T/ref" && mkdir "$T/ref"
	if "$E" "$T/ref/out.qcow2" build "$rcp" "$@" >"$T/out" 2>&1; then notok "$n" "was accepted"
	elif [ -n "$(ls -A "$T/ref")" ]; then notok "$n" "left $(ls -A "$T/ref" | tr '\n' ' ')"
	elif ! grep -q "$(basename "$rcp"):$line:" "$T/out"; then notok "$n" "error does not name line $line: $(head -n 2 "$T/out" | tr '\n' ' ')"
	else ok "$n"; fi
}

# --- the demo recipe is the step-by-step commands, byte for byte ------------
if out=$(make -C "$ROOT" --no-print-directory BUILD="$B" "$KB/kernel.bin" "$KB/boot.bin" 2>&1); then
	"$ED" "$T/steps.qcow2" create 8M >/dev/null
	"$ED" "$T/steps.qcow2" bootcode "$KB/boot.bin"
	"$ED" "$T/steps.qcow2" fdisk create PrimaryPartition 1M --type da >/dev/null
	"$ED" "$T/steps.qcow2" partition 1 write "$KB/kernel.bin"
	run demo-build "$E" "$T/demo.qcow2" build "$ROOT/kernel_shim/hos-demo.recipe" --define KERNEL="$(cd "$KB" && pwd)"
	check demo-same-as-steps cmp "$T/demo.qcow2" "$T/steps.qcow2"
	qcheck demo-qemu-check "$T/demo.qcow2"
else
	notok demo-build "building the kernel: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
fi

# --- a multi-partition recipe: auto sizes, rest, logical partitions ----------
mkdir -p "$T/src/files"
head -c 3000000 /dev/urandom > "$T/src/files/kernel.bin"
head -c 440 /dev/urandom > "$T/src/files/mbr.bin"
# a payload that is mostly zeros: 1 MiB data, 30 MiB zeros, 1 MiB data
{ head -c 1048576 /dev/urandom; head -c 31457280 /dev/zero; head -c 1048576 /dev/urandom; } > "$T/src/files/fs.img"
head -c 5000 /dev/urandom > "$T/src/files/small.bin"
cat > "$T/src/multi.recipe" <<'R'
# a test recipe
format: qcow2
size: 96M
cluster-size: 64K
bootcode: ${FILES}/mbr.bin
label: dos
start=2048, size=auto, type=83, bootable, file=${FILES}/kernel.bin
size=40M, type=c, file=${FILES}/fs.img
type=5
${DEV}5 : size=auto, type=83, file=${FILES}/small.bin
${DEV}6 : size=rest, type=82
R
run multi-build "$E" "$T/multi.qcow2" build "$T/src/multi.recipe" --define FILES=files --define DEV=d
qcheck multi-qemu-check "$T/multi.qcow2"
expect_eq multi-layout "$(parts "$T/multi.qcow2")" "1 : start=        2048, size=        6144, type=83, bootable
2 : start=        8192, size=       81920, type=c
3 : start=       90112, size=      106496, type=5
5 : start=       92160, size=        2048, type=83
6 : start=       96256, size=      100352, type=82"
payload_is multi-p1 "$T/multi.qcow2" 2048 "$T/src/files/kernel.bin" 1
payload_is multi-p2 "$T/multi.qcow2" 8192 "$T/src/files/fs.img" 2
payload_is multi-p5 "$T/multi.qcow2" 92160 "$T/src/files/small.bin" 5
expect_eq multi-bootcode "$(head -c 440 "$T/twin.raw" | od -An -tx1)" "$(od -An -tx1 "$T/src/files/mbr.bin")"
# zero blocks of a payload are not allocated: 3 MiB + 2 MiB of data, plus
# metadata, not the 32 MiB the payload spans
alloc=$(qemu-img map --output=json "$T/multi.qcow2" | python3 -c '
import json, sys
print(sum(e["length"] for e in json.load(sys.stdin) if e["data"]))')
[ "$alloc" -le $((6 * 1048576)) ] && ok multi-zeros-unallocated ||
	notok multi-zeros-unallocated "$alloc bytes allocated"

# --- reproducible: twice, and from another directory with other defines ----
run repro-build2 "$E" "$T/multi2.qcow2" build "$T/src/multi.recipe" --define FILES=files --define DEV=d
check repro-same cmp "$T/multi.qcow2" "$T/multi2.qcow2"
mkdir -p "$T/elsewhere/deep"
cp "$T/src/multi.recipe" "$T/elsewhere/multi.recipe"
cp -r "$T/src/files" "$T/elsewhere/deep/payloads"
(cd "$T/elsewhere/deep" && "$E" ../../multi3.qcow2 build ../multi.recipe --define FILES=deep/payloads --define DEV=d) >"$T/out" 2>&1 ||
	notok repro-elsewhere-build "$(tail -n 2 "$T/out")"
check repro-elsewhere-same cmp "$T/multi.qcow2" "$T/multi3.qcow2"
# the disk signature comes from the recipe (not random, not zero)
id1=$(sfdisk -d "$T/twin.raw" | sed -n 's/^label-id: //p')
[ -n "$id1" ] && [ "$id1" != 0x00000000 ] && ok repro-label-id || notok repro-label-id "[$id1]"

# --- raw output, size auto ----------------------------------------------------
cat > "$T/src/raw.recipe" <<'R'
format: raw
label: dos
size=auto, type=83, file=files/kernel.bin
size=auto, type=83, file=files/small.bin
R
run raw-build "$E" "$T/raw.img" build "$T/src/raw.recipe"
expect_eq raw-size "$(stat -c %s "$T/raw.img")" $((5 * 1048576))
expect_eq raw-sfdisk "$(sfdisk -d "$T/raw.img" | grep ' : start=' | sed 's/^.*[^0-9]\([0-9]* : \)/\1/')" "1 : start=        2048, size=        6144, type=83
2 : start=        8192, size=        2048, type=83"
dd if="$T/raw.img" bs=512 skip=8192 count=10 status=none | head -c 5000 > "$T/got"
check raw-payload cmp "$T/got" "$T/src/files/small.bin"
run raw-dry-run "$E" "$T/dry.img" build "$T/src/raw.recipe" --dry-run
[ ! -e "$T/dry.img" ] && grep -q 'small.bin (5000 bytes)' "$T/out" && ok raw-dry-run-writes-nothing ||
	notok raw-dry-run-writes-nothing "$(cat "$T/out")"

# --- GPT: sgdisk finds nothing wrong, GUIDs come from the recipe -----------
cat > "$T/src/gpt.recipe" <<'R'
size: auto
label: gpt
start=2048, size=auto, type=U, name="EFI system", file=files/kernel.bin
size=auto, type=L, name=root, file=files/fs.img
size=4M, type=S, attrs="RequiredPartition"
R
run gpt-build "$E" "$T/gpt.qcow2" build "$T/src/gpt.recipe"
qcheck gpt-qemu-check "$T/gpt.qcow2"
qemu-img convert -O raw "$T/gpt.qcow2" "$T/gpt.raw"
if need sgdisk; then
	sgdisk -v "$T/gpt.raw" > "$T/out" 2>&1
	grep -q 'No problems found' "$T/out" && ok gpt-sgdisk-v || notok gpt-sgdisk-v "$(head -n 3 "$T/out" | tr '\n' ' ')"
fi
expect_eq gpt-layout "$(sfdisk -d "$T/gpt.raw" | grep ' : start=' | sed 's/^.*[^0-9]\([0-9]* : start= *[0-9]*, size= *[0-9]*, type=[^,]*\).*/\1/')" "1 : start=        2048, size=        6144, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
2 : start=        8192, size=       65536, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
3 : start=       73728, size=        8192, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"
# auto size: the last partition's end, the backup table, rounded to 1 MiB
expect_eq gpt-auto-size "$(stat -c %s "$T/gpt.raw")" $((41 * 1048576))
payload_is gpt-p1 "$T/gpt.qcow2" 2048 "$T/src/files/kernel.bin" 1
payload_is gpt-p2 "$T/gpt.qcow2" 8192 "$T/src/files/fs.img" 2
run gpt-build2 "$E" "$T/gpt2.qcow2" build "$T/src/gpt.recipe"
check gpt-reproducible cmp "$T/gpt.qcow2" "$T/gpt2.qcow2"
sfdisk -d "$T/gpt.raw" | grep -q 'name="EFI system"' && ok gpt-name || notok gpt-name "no name"

# --- compressed: as convert -c writes them, the same for any -j --------------
for ct in zlib zstd; do
	printf '%s\n' "compression: $ct" "size: 64M" "label: dos" "label-id: 0x5eed" \
		"start=2048, size=auto, file=files/fs.img" "size=auto, file=files/text.txt" > "$T/src/c.recipe"
	printf '%s\n' "size: 64M" "label: dos" "label-id: 0x5eed" \
		"start=2048, size=auto, file=files/fs.img" "size=auto, file=files/text.txt" > "$T/src/u.recipe"
	[ -e "$T/src/files/text.txt" ] || seq 1 400000 > "$T/src/files/text.txt"
	run "c-$ct-build" "$E" "$T/c.qcow2" build "$T/src/c.recipe" -j 2
	qcheck "c-$ct-qemu-check" "$T/c.qcow2"
	"$E" "$T/u.qcow2" build "$T/src/u.recipe" >/dev/null 2>&1
	check "c-$ct-same-contents" qemu-img compare "$T/c.qcow2" "$T/u.qcow2"
	n=$(qemu-img check --output=json "$T/c.qcow2" | sed -n 's/.*"compressed-clusters": \([0-9]*\).*/\1/p')
	[ "${n:-0}" -ge 30 ] && ok "c-$ct-compressed-clusters" || notok "c-$ct-compressed-clusters" "[$n]"
	qemu-img info "$T/c.qcow2" | grep -q "compression type: $ct" && ok "c-$ct-type" || notok "c-$ct-type" "$(qemu-img info "$T/c.qcow2" | grep compression)"
	run "c-$ct-j1" "$E" "$T/c1.qcow2" build "$T/src/c.recipe" -j 1
	run "c-$ct-j3" "$E" "$T/c3.qcow2" build "$T/src/c.recipe" -j 3
	check "c-$ct-any-j" cmp "$T/c1.qcow2" "$T/c3.qcow2"
	check "c-$ct-j-vs-default" cmp "$T/c1.qcow2" "$T/c.qcow2"
done

# --- an old dump's empty slot makes no partition: payloads keep their lines --
printf '%s\n' "size: 8M" "label: dos" "start= 0, size= 0, Id= 0" "size=auto, file=files/small.bin" > "$T/src/slot.recipe"
run slot-build "$E" "$T/slot.qcow2" build "$T/src/slot.recipe"
payload_is slot-payload "$T/slot.qcow2" 2048 "$T/src/files/small.bin" 1

# --- bad recipes: each names its line and leaves nothing ----------------------
bad() { printf '%s\n' "$@" > "$T/src/bad.recipe"; }
bad "size: 64M" "colour: blue" "type=83"
refused bad-unknown-key 2 "$T/src/bad.recipe"
bad "size: 64M" "label: dos" "type=83, file=files/missing.bin"
refused bad-missing-file 3 "$T/src/bad.recipe"
bad "size: 64M" "size=1M, type=83, file=files/kernel.bin"
refused bad-too-big 2 "$T/src/bad.recipe"
bad "size: 64M" "start=2048, size=4096" "start=4096, size=4096"
refused bad-overlap 3 "$T/src/bad.recipe"
bad "size: 64M" "size=4M, type=83" "size=rest, type=83" "size=rest, type=83"
refused bad-rest-twice 4 "$T/src/bad.recipe"
bad "size: 8M" "size=4M" "size=8M, type=83"
refused bad-disk-too-small 3 "$T/src/bad.recipe"
bad "size: 8M" "size=4M, type=zz"
refused bad-type 2 "$T/src/bad.recipe"
bad "size: 8M" 'size=4M, file=${NOPE}/x'
refused bad-undefined 2 "$T/src/bad.recipe"
bad "size: 8M" "bootcode: files/kernel.bin" "size=4M"
refused bad-bootcode 2 "$T/src/bad.recipe"
bad "size: 8M" "label: gpt" "size=4M, name=\"a name that is far too long for a GPT entry of 36\""
refused bad-gpt-name 3 "$T/src/bad.recipe"
bad "format: raw" "compression: zlib" "size=4M"
refused bad-compressed-raw 2 "$T/src/bad.recipe"
bad "compat: 0.10" "compression: zstd" "size=4M"
refused bad-zstd-v2 2 "$T/src/bad.recipe"
bad "size: 8M" "label: dos" "start= 0, size= 0, Id= 0, file=files/small.bin"
refused bad-file-in-empty-slot 3 "$T/src/bad.recipe"

# --- a kill during the build leaves OUT as it was, and no temporary file -----
head -c $((48 << 20)) /dev/urandom > "$T/src/files/big.bin"
printf '%s\n' "label: dos" "size=auto, file=files/big.bin" > "$T/src/big.recipe"
cp "$T/multi.qcow2" "$T/kill.qcow2"
for sig in INT TERM KILL; do
	cut=0
	for delay in 0.05 0.2 0.5; do
		"$E" "$T/kill.qcow2" build "$T/src/big.recipe" >/dev/null 2>&1 &
		pid=$!
		sleep $delay
		kill -$sig $pid 2>/dev/null
		wait $pid 2>/dev/null
		if cmp -s "$T/kill.qcow2" "$T/multi.qcow2"; then cut=$((cut + 1))
		elif "$E" "$T/kill.qcow2" partition 1 read 0 $((48 << 20)) 2>/dev/null | cmp -s - "$T/src/files/big.bin"; then
			cp "$T/multi.qcow2" "$T/kill.qcow2"   # it finished first: fine
		else notok "kill-$sig-$delay" "OUT changed"; continue; fi
		left=$(ls "$T" | grep 'kill.qcow2.tmp-' || true)
		if [ -n "$left" ] && [ $sig != KILL ]; then notok "kill-$sig-$delay" "left $left"
		else ok "kill-$sig-$delay"; fi
		rm -f "$T"/kill.qcow2.tmp-*
	done
	# at least one kill must have landed mid-build, or nothing was tested
	[ $cut -gt 0 ] && ok "kill-$sig-interrupted" || notok "kill-$sig-interrupted" "every build finished before the kill"
done
