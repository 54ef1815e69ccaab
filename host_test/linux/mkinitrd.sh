#!/bin/sh
# host_test/linux/mkinitrd.sh OUT.cpio.gz: a tiny initramfs for the Debian
# kernel in /boot (busybox-static plus the virtio disk modules), whose /init
# is host_test/linux/init. Prints the kernel image path on stdout.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || { echo "mkinitrd: no /boot/vmlinuz-* (linux-image-amd64)" >&2; exit 1; }
ver=${kernel#/boot/vmlinuz-}
mods=/lib/modules/$ver
[ -f "$mods/modules.dep" ] || { echo "mkinitrd: no $mods/modules.dep" >&2; exit 1; }
bb=$(command -v busybox || echo /bin/busybox)
[ -x "$bb" ] || { echo "mkinitrd: no busybox (busybox-static)" >&2; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/hdi-initrd.XXXXXX")
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/bin" "$w/proc" "$w/sys" "$w/dev" "$w/mod"
cp "$bb" "$w/bin/busybox"
ln -s busybox "$w/bin/sh"
cp "$here/init" "$w/init"
chmod 755 "$w/init"
# modules.dep lists a module's dependencies with the one loaded first last;
# walk them depth-first so every module follows what it needs.
order=$w/order
: > "$order"
add() {
	local line path dep n
	line=$(grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$mods/modules.dep" | head -n 1)
	[ -n "$line" ] || { echo "mkinitrd: module $1 not found" >&2; exit 1; }
	path=${line%%:*}
	grep -qxF "$path" "$order" && return 0
	for dep in $(echo "${line#*:}" | tr ' ' '\n' | sed '1!G;h;$!d'); do
		n=$(basename "$dep"); n=${n%%.ko*}
		add "$n"
	done
	grep -qxF "$path" "$order" || echo "$path" >> "$order"
}
for m in virtio_pci virtio_blk; do add "$m"; done
i=0
while read -r p; do
	i=$((i + 1))
	case "$p" in
	*.ko.xz) xz -dc "$mods/$p" > "$w/mod/$(printf %02d $i).ko" ;;
	*.ko.zst) zstd -qdc "$mods/$p" > "$w/mod/$(printf %02d $i).ko" ;;
	*) cp "$mods/$p" "$w/mod/$(printf %02d $i).ko" ;;
	esac
done < "$order"
(cd "$w" && find . -path ./order -prune -o -print | cpio -o -H newc --quiet) | gzip -1 > "$out"
echo "$kernel"
