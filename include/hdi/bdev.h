/* hdi/bdev.h: the one block-I/O vtable every layer talks through.
 * Raw files, RAM, ATA disks and open qcow2 images are all an hdi_bdev.
 *
 * Concurrency: the library never calls one device from two threads unless
 * the caller makes two calls at once on handles sharing it; a driver that
 * may be shared that way must allow concurrent calls itself. */
#ifndef HDI_BDEV_H
#define HDI_BDEV_H

#include <stddef.h>
#include <stdint.h>
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__) && defined(__ELF__)
/* Only what these headers declare is the library's interface: core is
 * compiled with -fvisibility=hidden, so everything else stays internal. */
#pragma GCC visibility push(default)
#endif

#define HDI_BDEV_OPS_VERSION 1u
#define HDI_GRANULE_MAX 4096u   /* largest I/O granule the core handles */

/* Every callback returns HDI_OK or a negative code. The core only calls
 * read/write with off and len both multiples of the device's granule, and
 * never past size() (unless after a successful grow()). size() should be a
 * multiple of the granule: bytes past the last whole granule are unreachable
 * (a sector device shows a file's partial last sector padded with zeros). */
struct hdi_bdev_ops {
	/* HDI_BDEV_OPS_VERSION: every hdi_bdev_* call refuses a table of
	 * another version with HDI_EUNSUPP before calling through it. */
	unsigned version;
	int (*read)(void *ctx, uint64_t off, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t off, const void *buf, size_t len);
	/* Make every completed write durable; ordering barrier for metadata. */
	int (*flush)(void *ctx);
	int (*size)(void *ctx, uint64_t *bytes);
	/* Optional (NULL for fixed-size devices): make size() at least bytes.
	 * The space it adds reads as zeros (the qcow2 writer relies on it). */
	int (*grow)(void *ctx, uint64_t bytes);
};

#define HDI_BDEV_RDONLY 0x1u

struct hdi_bdev {
	const struct hdi_bdev_ops *ops;
	void *ctx;
	uint32_t granule;   /* power of two, 1..HDI_GRANULE_MAX */
	uint32_t flags;     /* HDI_BDEV_* */
};

/* Checked wrappers: validate the ops version, alignment and range, then
 * call the driver. */
int hdi_bdev_read(const struct hdi_bdev *d, uint64_t off, void *buf, size_t len);
int hdi_bdev_write(const struct hdi_bdev *d, uint64_t off, const void *buf, size_t len);
int hdi_bdev_flush(const struct hdi_bdev *d);
int hdi_bdev_size(const struct hdi_bdev *d, uint64_t *bytes);
/* Grows the device if it is smaller than bytes; HDI_ENOSPC without grow(). */
int hdi_bdev_ensure_size(const struct hdi_bdev *d, uint64_t bytes);

/* Byte-granular access on any device: unaligned head and tail go through
 * bounce, which must hold d->granule bytes (read-modify-write for writes). */
int hdi_bdev_pread(const struct hdi_bdev *d, uint64_t off, void *buf,
		   size_t len, void *bounce);
int hdi_bdev_pwrite(const struct hdi_bdev *d, uint64_t off, const void *buf,
		    size_t len, void *bounce);

/* A bounded window [off, off+len) of a parent device, itself a device:
 * a partition (MBR or GPT alike). Same granule and flags as the parent;
 * I/O past len is HDI_EINVAL. */
struct hdi_bdev_view {
	struct hdi_bdev bdev;        /* use this */
	const struct hdi_bdev *parent;
	uint64_t off, len;           /* bytes on the parent */
};
/* HDI_EINVAL when off or len is not a multiple of the parent's granule. */
int hdi_bdev_view_init(struct hdi_bdev_view *v, const struct hdi_bdev *parent,
		       uint64_t off, uint64_t len);

#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
