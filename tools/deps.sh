#!/usr/bin/env bash
# tools/deps.sh: installs, with apt-get, the Debian packages that the build,
# the tests and the demo need and that are missing; does nothing otherwise.
set -euo pipefail
pkgs=()
want() { command -v "$1" >/dev/null 2>&1 || pkgs+=("$2"); }
want cc gcc
want make make
want qemu-img qemu-utils
want qemu-io qemu-utils
want qemu-system-i386 qemu-system-x86
want qemu-system-x86_64 qemu-system-x86
want i686-linux-gnu-gcc gcc-i686-linux-gnu
want i686-linux-gnu-ld binutils-i686-linux-gnu
want clang clang
want sfdisk fdisk
want fdisk fdisk
want parted parted
want sgdisk gdisk
want strace strace
want python3 python3
want x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
want zstd zstd
want mke2fs e2fsprogs
# the portability matrix: big-endian s390x under qemu-user, freestanding
# ARM / AArch64 / RISC-V, the Windows build under wine
want s390x-linux-gnu-gcc gcc-s390x-linux-gnu
want qemu-s390x qemu-user
want arm-none-eabi-gcc gcc-arm-none-eabi
want aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
want riscv64-unknown-elf-gcc gcc-riscv64-unknown-elf
want wine wine
[ -x /usr/lib/wine/wine64 ] || pkgs+=(wine64)
[ -e /usr/s390x-linux-gnu/include/stdio.h ] || pkgs+=(libc6-dev-s390x-cross)
want cpio cpio
# The UEFI recipe example: a FAT ESP without root, booted by OVMF.
want mkfs.fat dosfstools
want mcopy mtools
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || pkgs+=(ovmf)
[ -e /usr/include/zlib.h ] || pkgs+=(zlib1g-dev)
[ -e /usr/include/zstd.h ] || pkgs+=(libzstd-dev)
[ -e /usr/x86_64-w64-mingw32/include/zlib.h ] || pkgs+=(libz-mingw-w64-dev)
# The partition tests boot a real Linux kernel with a busybox initramfs.
[ -x /bin/busybox ] || pkgs+=(busybox-static)
compgen -G '/boot/vmlinuz-*' >/dev/null || pkgs+=(linux-image-amd64)
compgen -G '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a' >/dev/null ||
	pkgs+=(libclang-rt-dev)
s390x_zlib() {
	# zlib and libzstd for the static s390x build: only libz.a and
	# libzstd.a from Debian's s390x -dev packages, into the cross sysroot
	# (installing the multiarch packages drags in an s390x libc6-dev that
	# conflicts with the host's).
	[ -e /usr/s390x-linux-gnu/lib/libz.a ] && [ -e /usr/s390x-linux-gnu/lib/libzstd.a ] && return 0
	dpkg --print-foreign-architectures | grep -qx s390x ||
		{ $SUDO dpkg --add-architecture s390x && $SUDO apt-get update -qq; }
	tmp=$(mktemp -d)
	for p in zlib1g-dev:libz libzstd-dev:libzstd; do
		(cd "$tmp" && apt-get download -qq "${p%%:*}:s390x" 2>/dev/null) &&
			dpkg -x "$tmp/${p%%:*}"_*_s390x.deb "$tmp/x" &&
			$SUDO install -D -m 644 "$tmp/x/usr/lib/s390x-linux-gnu/${p#*:}.a" \
				"/usr/s390x-linux-gnu/lib/${p#*:}.a"
	done
	rm -rf "$tmp"
}
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ ${#pkgs[@]} -eq 0 ]; then
	s390x_zlib
	exit 0
fi
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
echo "deps: installing ${pkgs[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install ${pkgs[*]}" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
s390x_zlib
