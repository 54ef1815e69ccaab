/* core/bdev.c: checked calls through the block-device vtable, and
 * byte-granular access on top of a device's I/O granule. */
#include "hdi/bdev.h"
#include "util.h"

/* A table of another version may lay its callbacks out differently:
 * calling through it would jump anywhere. */
static bool known(const struct hdi_bdev *d)
{
	return d->ops && d->ops->version == HDI_BDEV_OPS_VERSION;
}

static bool aligned(const struct hdi_bdev *d, uint64_t off, size_t len)
{
	uint64_t m = d->granule - 1u;
	return d->granule && !(d->granule & m) && !(off & m) && !(len & m);
}

int hdi_bdev_read(const struct hdi_bdev *d, uint64_t off, void *buf, size_t len)
{
	uint64_t end;
	if (!known(d))
		return HDI_EUNSUPP;
	if (!aligned(d, off, len) || !hdi_add_ok(off, len, &end))
		return HDI_EINVAL;
	if (len == 0)
		return HDI_OK;
	return d->ops->read(d->ctx, off, buf, len);
}

int hdi_bdev_write(const struct hdi_bdev *d, uint64_t off, const void *buf,
		   size_t len)
{
	uint64_t end;
	if (!known(d))
		return HDI_EUNSUPP;
	if (d->flags & HDI_BDEV_RDONLY)
		return HDI_EROFS;
	if (!aligned(d, off, len) || !hdi_add_ok(off, len, &end))
		return HDI_EINVAL;
	if (len == 0)
		return HDI_OK;
	return d->ops->write(d->ctx, off, buf, len);
}

int hdi_bdev_flush(const struct hdi_bdev *d)
{
	if (!known(d))
		return HDI_EUNSUPP;
	if (d->flags & HDI_BDEV_RDONLY)
		return HDI_OK;
	return d->ops->flush ? d->ops->flush(d->ctx) : HDI_OK;
}

int hdi_bdev_size(const struct hdi_bdev *d, uint64_t *bytes)
{
	if (!known(d))
		return HDI_EUNSUPP;
	return d->ops->size(d->ctx, bytes);
}

int hdi_bdev_ensure_size(const struct hdi_bdev *d, uint64_t bytes)
{
	uint64_t cur;
	int r = hdi_bdev_size(d, &cur);
	if (r < 0 || cur >= bytes)
		return r;
	if (d->flags & HDI_BDEV_RDONLY)
		return HDI_EROFS;
	if (!d->ops->grow)
		return HDI_ENOSPC;
	return d->ops->grow(d->ctx, bytes);
}

/* One granule around off, through the bounce buffer. */
static int edge_read(const struct hdi_bdev *d, uint64_t off, uint8_t *buf,
		     size_t len, uint8_t *bounce)
{
	uint64_t base = off & ~(uint64_t)(d->granule - 1u);
	int r = hdi_bdev_read(d, base, bounce, d->granule);
	if (r == HDI_OK)
		memcpy(buf, bounce + (off - base), len);
	return r;
}

static int edge_write(const struct hdi_bdev *d, uint64_t off,
		      const uint8_t *buf, size_t len, uint8_t *bounce)
{
	uint64_t base = off & ~(uint64_t)(d->granule - 1u);
	int r = hdi_bdev_read(d, base, bounce, d->granule);
	if (r < 0)
		return r;
	memcpy(bounce + (off - base), buf, len);
	return hdi_bdev_write(d, base, bounce, d->granule);
}

/* Splits [off, off+len) into an unaligned head, an aligned middle and an
 * unaligned tail; the edges use the bounce buffer. */
static int bytewise(const struct hdi_bdev *d, uint64_t off, uint8_t *buf,
		    size_t len, uint8_t *bounce, bool wr)
{
	uint32_t g = d->granule;
	uint64_t end;
	int r;
	if (!g || (g & (g - 1u)) || g > HDI_GRANULE_MAX ||
	    !hdi_add_ok(off, len, &end))
		return HDI_EINVAL;
	while (len) {
		size_t head = (size_t)(off & (g - 1u));
		size_t n;
		if (head || len < g) {
			n = hdi_minsz(len, g - head);
			r = wr ? edge_write(d, off, buf, n, bounce)
			       : edge_read(d, off, buf, n, bounce);
		} else {
			n = len & ~(size_t)(g - 1u);
			r = wr ? hdi_bdev_write(d, off, buf, n)
			       : hdi_bdev_read(d, off, buf, n);
		}
		if (r < 0)
			return r;
		off += n;
		buf += n;
		len -= n;
	}
	return HDI_OK;
}

int hdi_bdev_pread(const struct hdi_bdev *d, uint64_t off, void *buf,
		   size_t len, void *bounce)
{
	return bytewise(d, off, buf, len, bounce, false);
}

int hdi_bdev_pwrite(const struct hdi_bdev *d, uint64_t off, const void *buf,
		    size_t len, void *bounce)
{
	if (d->flags & HDI_BDEV_RDONLY)
		return HDI_EROFS;
	/* bytewise never writes through buf; the cast only shares the loop. */
	return bytewise(d, off, (uint8_t *)(uintptr_t)buf, len, bounce, true);
}
