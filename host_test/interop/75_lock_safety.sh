#!/bin/sh
# host_test/interop/75_lock_safety.sh: edqcow2 never destroys an image it
# reads or one QEMU uses. convert onto its own input (same path, ./, a
# symlink, a hard link, a backing file) and create --backing onto itself
# are refused with the image byte-identical. Beside a real qemu-system
# (writable drive) and an interactive qemu-io, every writing command is
# refused and the image unchanged, reads fail as qemu-img's do and -U reads
# anyway; the lock bytes edqcow2 takes are those QEMU takes (/proc/locks);
# and while edqcow2 holds an image, qemu-img and qemu-io cannot write it.
. "$(dirname "$0")/../lib.sh"
need qemu-img qemu-io qemu-system-x86_64 timeout || exit 0

QPIDS=
cleanup() {
	for p in $QPIDS; do kill "$p" 2>/dev/null; done
	for p in $QPIDS; do wait "$p" 2>/dev/null; done
	QPIDS=
}
trap 'exec 3>&- 2>/dev/null; cleanup; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

sum() { cksum < "$1"; }
# refused NAME IMAGE CMD...: CMD exits non-zero, says the image is locked
# (or, for outputs, that it is an input), and IMAGE is byte-identical.
refused() {
	_n=$1; _img=$2; shift 2
	before=$(sum "$_img")
	if "$@" >"$T/out" 2>&1; then
		notok "$_n" "succeeded: $(head -c 300 "$T/out" | tr '\n' ' ')"
	elif ! grep -qE "$WANT" "$T/out"; then
		notok "$_n" "wrong error: $(head -c 300 "$T/out" | tr '\n' ' ')"
	elif [ "$(sum "$_img")" != "$before" ]; then
		notok "$_n" "image changed"
	else
		ok "$_n"
	fi
}
# lockbytes FILE: the byte-range locks on FILE as "TYPE start-end;..."
lockbytes() {
	ino=$(stat -c %i "$1")
	grep ":$ino " /proc/locks | awk '{print $4, $7 "-" $8}' | sort -k2 | tr '\n' ';'
}
# waitlock FILE: until somebody holds a lock on FILE (10 s at most)
waitlock() {
	_w=0
	while [ -z "$(lockbytes "$1")" ] && [ $_w -lt 100 ]; do sleep 0.1; _w=$((_w + 1)); done
}

# ---- outputs never clobber inputs ----------------------------------------------
head -c 1048576 /dev/urandom > "$T/data"
mk() {   # mk NAME FORMAT: a 16 MiB image holding 1 MiB of data
	rm -f "$T/$1"
	qemu-img create -q -f "$2" "$T/$1" 16M
	qemu-io -f "$2" -c "write -P 0x5a 1M 1M" "$T/$1" >/dev/null
}
WANT='is the input|backing file'
cd "$T" || exit 1
for inf in raw qcow2; do
	mk in.$inf $inf
	ln -sf in.$inf sl.$inf
	ln -f in.$inf hl.$inf
	for outf in raw qcow2; do
		for sp in same dot symlink hardlink; do
			case $sp in
			same) o=in.$inf ;; dot) o=./in.$inf ;; symlink) o=sl.$inf ;; hardlink) o=hl.$inf ;;
			esac
			refused "self-convert.$inf-$outf.$sp" "in.$inf" "$ED" in.$inf convert "$o" -O $outf
		done
	done
	qemu-img check -q in.$inf 2>/dev/null || [ $inf = raw ] || notok "self-convert.$inf.check" "qemu-img check fails"
done
# a file of the input's backing chain, even spelled through a symlink
mk base.qcow2 qcow2
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2
qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2
ln -sf "$T/base.qcow2" "$T/sub-link.qcow2"
for outf in raw qcow2; do
	refused "self-convert.backing-$outf" base.qcow2 "$ED" top.qcow2 convert sub-link.qcow2 -O $outf
	refused "self-convert.mid-$outf" mid.qcow2 "$ED" top.qcow2 convert "$T/mid.qcow2" -O $outf
done
# create --backing naming the image being created
WANT='image being created'
refused create.backing-self top.qcow2 "$ED" top.qcow2 create --backing top.qcow2
refused create.backing-self-link base.qcow2 "$ED" base.qcow2 create 16M --backing sub-link.qcow2
# ... or deeper in the backing file's chain (qemu-img 7.2 creates it: the
# old image's data is lost and the chain loops)
refused create.backing-chain-base base.qcow2 "$ED" base.qcow2 create 16M --backing top.qcow2
refused create.backing-chain-mid mid.qcow2 "$ED" mid.qcow2 create --backing top.qcow2 -F qcow2
refused create.backing-chain-link base.qcow2 "$ED" sub-link.qcow2 create 16M --backing top.qcow2
check create.backing-chain-other "$ED" other-top.qcow2 create --backing top.qcow2
# rebase onto a chain that holds the image (qemu-img rebase -u loops it)
WANT='chain would loop'
refused rebase.loop-base base.qcow2 "$ED" base.qcow2 rebase -b top.qcow2 -F qcow2
refused rebase.loop-base-unsafe base.qcow2 "$ED" base.qcow2 rebase -u -b top.qcow2
refused rebase.loop-mid mid.qcow2 "$ED" mid.qcow2 rebase -u -b top.qcow2
# write streaming the image into itself (it would read what it writes)
WANT='image itself'
refused write.from-self-qcow2 in.qcow2 "$ED" in.qcow2 write 4096 hl.qcow2
refused write.from-self-raw in.raw "$ED" in.raw write 4096 ./sl.raw
# a different output still works
check convert.other "$ED" top.qcow2 convert out.raw -O raw
check convert.other-same "qemu-img" compare -q top.qcow2 out.raw

# ---- a real QEMU holds the image -----------------------------------------------
"$ED" guest.qcow2 create 64M >/dev/null
"$ED" guest.qcow2 fdisk create PrimaryPartition 16M >/dev/null
"$ED" guest.qcow2 write 1M "$T/data" >/dev/null
cp guest.qcow2 other.qcow2
"$ED" guest.raw create 64M --format raw >/dev/null
"$ED" guest.raw fdisk create PrimaryPartition 16M >/dev/null
printf 'x' > one
head -c 440 /dev/zero > boot

# writers NAME IMAGE: every writing command refused, image unchanged
writers() {
	p=$1; i=$2
	WANT='locked'
	refused "$p.write" "$i" "$ED" "$i" write 0 one
	refused "$p.write-zeroes" "$i" "$ED" "$i" write-zeroes 0 512
	refused "$p.discard" "$i" "$ED" "$i" discard 0 65536
	refused "$p.resize" "$i" "$ED" "$i" resize 128M
	refused "$p.resize-shrink" "$i" "$ED" "$i" resize 32M --shrink
	refused "$p.fdisk-create" "$i" "$ED" "$i" fdisk create PrimaryPartition 1M
	refused "$p.fdisk-delete" "$i" "$ED" "$i" fdisk delete 1
	refused "$p.fdisk-set" "$i" "$ED" "$i" fdisk set 1 --bootable
	refused "$p.fdisk-signature" "$i" "$ED" "$i" fdisk signature 12345678
	printf 'label: dos\n,1M\n' > script
	refused "$p.fdisk-apply" "$i" "$ED" "$i" fdisk apply script
	refused "$p.bootcode" "$i" "$ED" "$i" bootcode boot
	refused "$p.partition-write" "$i" "$ED" "$i" partition 1 write one
	refused "$p.create" "$i" "$ED" "$i" create 16M
	refused "$p.create-raw" "$i" "$ED" "$i" create 16M --format raw
	refused "$p.convert-into-raw" "$i" "$ED" other.qcow2 convert "$i" -O raw
	refused "$p.convert-into-qcow2" "$i" "$ED" other.qcow2 convert "$i" -O qcow2
	printf 'format: qcow2\nsize: 16M\nlabel: dos\nsize=1M, type=83\n' > img.recipe
	refused "$p.build-into" "$i" "$ED" "$i" build img.recipe
	case $i in *.qcow2)
		refused "$p.check-repair" "$i" "$ED" "$i" check --repair all
		# commands that edqcow2 may not have yet are covered by ed_open
		for c in "snapshot create s1" "snapshot delete s1" "snapshot apply s1" \
			 "commit" "rebase -u -b other.qcow2" "amend -o compat=1.1"; do
			# shellcheck disable=SC2086
			"$ED" "$i" $c >"$T/out" 2>&1
			grep -qiE "unknown|not supported|only|usage" "$T/out" && continue
			refused "$p.$(echo "$c" | cut -d' ' -f1-2 | tr ' ' -)" "$i" "$ED" "$i" $c
		done ;;
	esac
	WANT='force-share'
	refused "$p.write-U" "$i" "$ED" -U "$i" write 0 one
}
# readers NAME IMAGE: each read is refused or allowed as the qemu-img (or
# qemu-io) command doing the same is, and -U always reads. The pairs are
# separated by '|'; QEMU's half names the image I and its format F.
READS='info|qemu-img info -f F I
map|qemu-img map -f F I
read 0 512|qemu-io -r -f F -c quit I
check|qemu-img check -f F I
convert o.raw -O raw|qemu-img convert -f F -O raw I q.raw
fdisk list|qemu-img dd -f F if=I of=q.raw bs=512 count=1
fdisk dump|qemu-img dd -f F if=I of=q.raw bs=512 count=1
partition 1 read 0 512|qemu-img dd -f F if=I of=q.raw bs=512 count=1
snapshot list|qemu-img snapshot -l I'
readers() {
	p=$1; img=$2; fmt=${img##*.}
	echo "$READS" | while IFS='|' read -r c q; do
		[ "$fmt" = raw ] && case $c in check|snapshot*) continue ;; esac
		q=$(echo "$q" | sed "s/\bF\b/$fmt/; s/\bI\b/$img/g")
		n=$(echo "$c" | cut -d' ' -f1-2 | tr ' ' -)
		# shellcheck disable=SC2086
		if timeout 30 $q >/dev/null 2>&1 </dev/null; then want=0; else want=1; fi
		# shellcheck disable=SC2086
		if "$ED" "$img" $c >"$T/out" 2>&1 </dev/null; then got=0; else got=1; fi
		expect_eq "$p.read-as-qemu.$n" "$got" "$want"
		if [ $got = 1 ] && ! grep -q 'locked' "$T/out"; then
			notok "$p.read-msg.$n" "$(head -c 200 "$T/out")"
		fi
		# shellcheck disable=SC2086
		check "$p.read-U.$n" "$ED" -U "$img" $c </dev/null
	done
	"$ED" --force-share "$img" read 0 4M > got.bin 2>/dev/null
	qemu-img convert -U -f "$fmt" -O raw "$img" q.raw
	expect_eq "$p.read-U-bytes" "$(cksum < got.bin)" "$(head -c 4194304 q.raw | cksum)"
	# qcow2 reads fail beside a writer, as qemu-img's do
	[ "$fmt" = qcow2 ] && expect_eq "$p.read-refused" "$(cksum < "$img")$("$ED" "$img" read 0 1 >/dev/null 2>&1; echo $?)" "$(cksum < "$img")1"
}

# qemu-system with the images as writable drives (qcow2 and raw)
timeout 120 qemu-system-x86_64 -S -nographic -display none -nodefaults \
	-drive file=guest.qcow2,format=qcow2,if=virtio \
	-drive file=guest.raw,format=raw,if=virtio >/dev/null 2>&1 &
QPIDS="$QPIDS $!"
waitlock guest.qcow2
waitlock guest.raw
sysbytes=$(lockbytes guest.qcow2)
if [ -z "$sysbytes" ]; then
	notok qemu-system.started "no lock on guest.qcow2"
else
	writers sys.qcow2 guest.qcow2
	writers sys.raw guest.raw
	readers sys.qcow2 guest.qcow2
	readers sys.raw guest.raw
fi
cleanup

# an interactive qemu-io holding the qcow2 image read-write
rm -f fifo; mkfifo fifo
timeout 120 qemu-io -f qcow2 guest.qcow2 <fifo >/dev/null 2>&1 &
QPIDS="$QPIDS $!"
exec 3>fifo
waitlock guest.qcow2
if [ -z "$(lockbytes guest.qcow2)" ]; then
	notok qemu-io.started "no lock on guest.qcow2"
else
	writers io.qcow2 guest.qcow2
	WANT=locked
	refused io.read-refused guest.qcow2 "$ED" guest.qcow2 read 0 512
	check io.read-U "$ED" -U guest.qcow2 read 0 512
fi
echo quit >&3
exec 3>&-
cleanup

# ---- edqcow2 takes the lock bytes QEMU takes --------------------------------------
# hold BYTESVAR FILE CMD...: runs CMD with the test hook, records the lock
# bytes on FILE while it holds them, then lets it finish.
held() {
	f=$1; shift
	rm -f "$T/hold"
	EDQCOW2_TEST_HOLD=$T/hold timeout 60 "$@" >/dev/null 2>&1 &
	hp=$!
	_h=0
	while [ ! -e "$T/hold" ] && [ $_h -lt 100 ]; do sleep 0.1; _h=$((_h + 1)); done
	HELD=$(lockbytes "$f")
}
release() { rm -f "$T/hold"; wait "$hp"; }
qemu_bytes() {   # qemu_bytes FILE QEMU-IO-ARGS...: qemu-io's locks on FILE
	f=$1; shift
	rm -f fifo2; mkfifo fifo2
	timeout 60 qemu-io "$@" <fifo2 >/dev/null 2>&1 &
	qp=$!
	exec 4>fifo2
	waitlock "$f"
	QB=$(lockbytes "$f")
	echo quit >&4
	exec 4>&-
	wait "$qp"
}
# writer: as a qemu-system writable drive
held guest.qcow2 "$ED" guest.qcow2 write-zeroes 0 512
release
expect_eq bytes.write-qcow2 "$HELD" "$sysbytes"
held guest.qcow2 "$ED" guest.qcow2 read 0 1
release
qemu_bytes guest.qcow2 -r -f qcow2 guest.qcow2
expect_eq bytes.read-qcow2 "$HELD" "$QB"
held guest.qcow2 "$ED" -U guest.qcow2 read 0 1
release
qemu_bytes guest.qcow2 -r -U -f qcow2 guest.qcow2
expect_eq bytes.read-U-qcow2 "$HELD" "$QB"
held guest.raw "$ED" guest.raw read 0 1
release
qemu_bytes guest.raw -r -f raw guest.raw
expect_eq bytes.read-raw "$HELD" "$QB"
held base.qcow2 "$ED" top.qcow2 read 0 1
release
qemu_bytes base.qcow2 -r -f qcow2 top.qcow2
expect_eq bytes.backing "$HELD" "$QB"

# ---- the reverse: while edqcow2 holds an image, QEMU cannot write it ----------------
for img in guest.qcow2 guest.raw; do
	fmt=${img##*.}
	held "$img" "$ED" "$img" write-zeroes 0 512
	for c in "qemu-img resize -f $fmt $img 100M" "qemu-io -f $fmt -c quit $img" \
		 "qemu-img create -f qcow2 $img 1M" "qemu-img check -r all -f qcow2 $img"; do
		[ $fmt = raw ] && case $c in *check*) continue ;; esac
		before=$(sum "$img")
		# shellcheck disable=SC2086
		if timeout 30 $c >"$T/out" 2>&1; then
			notok "reverse.$fmt.$(echo "$c" | cut -d' ' -f1-2 | tr ' ' -)" "QEMU opened it"
		elif ! grep -q 'Failed to get' "$T/out"; then
			notok "reverse.$fmt.$(echo "$c" | cut -d' ' -f1-2 | tr ' ' -)" "$(head -c 200 "$T/out")"
		else
			expect_eq "reverse.$fmt.$(echo "$c" | cut -d' ' -f1-2 | tr ' ' -)" "$(sum "$img")" "$before"
		fi
	done
	check "reverse.$fmt.info-U" qemu-img info -U "$img"
	WANT=locked
	refused "reverse.$fmt.second-writer" "$img" "$ED" "$img" write 0 one
	release
done
# a reading edqcow2 keeps qemu-io from writing a qcow2 image, not from reading
held guest.qcow2 "$ED" guest.qcow2 read 0 1
if timeout 30 qemu-io -f qcow2 -c quit guest.qcow2 >"$T/out" 2>&1; then
	notok reverse.reader-blocks-writer "qemu-io opened it for writing"
else
	ok reverse.reader-blocks-writer
fi
check reverse.reader-allows-reader timeout 30 qemu-io -r -f qcow2 -c 'read 0 512' guest.qcow2
release
qcheck final.qemu-img-check guest.qcow2
