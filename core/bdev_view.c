/* core/bdev_view.c: a bounded window of a device as a device of its own:
 * how a partition (MBR or GPT) is read, written or nested into. */
#include "hdi/bdev.h"
#include "util.h"

static bool inside(const struct hdi_bdev_view *v, uint64_t off, size_t len)
{
	return off <= v->len && len <= v->len - off;
}

static int view_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct hdi_bdev_view *v = ctx;
	if (!inside(v, off, len))
		return HDI_EINVAL;
	return hdi_bdev_read(v->parent, v->off + off, buf, len);
}

static int view_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	struct hdi_bdev_view *v = ctx;
	if (!inside(v, off, len))
		return HDI_EINVAL;
	return hdi_bdev_write(v->parent, v->off + off, buf, len);
}

static int view_flush(void *ctx)
{
	struct hdi_bdev_view *v = ctx;
	return hdi_bdev_flush(v->parent);
}

static int view_size(void *ctx, uint64_t *bytes)
{
	struct hdi_bdev_view *v = ctx;
	*bytes = v->len;
	return HDI_OK;
}

static const struct hdi_bdev_ops view_ops = {
	.version = HDI_BDEV_OPS_VERSION,
	.read = view_read,
	.write = view_write,
	.flush = view_flush,
	.size = view_size,
	.grow = 0,
};

int hdi_bdev_view_init(struct hdi_bdev_view *v, const struct hdi_bdev *parent,
		       uint64_t off, uint64_t len)
{
	uint64_t g = parent->granule, end;
	if (!g || (off & (g - 1)) || (len & (g - 1)) || !hdi_add_ok(off, len, &end))
		return HDI_EINVAL;
	v->parent = parent;
	v->off = off;
	v->len = len;
	v->bdev.ops = &view_ops;
	v->bdev.ctx = v;
	v->bdev.granule = parent->granule;
	v->bdev.flags = parent->flags;
	return HDI_OK;
}
