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
want cpio cpio
[ -e /usr/include/zlib.h ] || pkgs+=(zlib1g-dev)
[ -e /usr/include/zstd.h ] || pkgs+=(libzstd-dev)
[ -e /usr/x86_64-w64-mingw32/include/zlib.h ] || pkgs+=(libz-mingw-w64-dev)
# The partition tests boot a real Linux kernel with a busybox initramfs.
[ -x /bin/busybox ] || pkgs+=(busybox-static)
compgen -G '/boot/vmlinuz-*' >/dev/null || pkgs+=(linux-image-amd64)
compgen -G '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a' >/dev/null ||
	pkgs+=(libclang-rt-dev)
[ ${#pkgs[@]} -eq 0 ] && exit 0
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
