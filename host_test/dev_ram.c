/* host_test/dev_ram.c: RAM device: fault injection per call and the
 * pending-write power-loss model used by the crash tests. */
#include "dev_ram.h"
#include <stdlib.h>
#include <string.h>

static int fault(struct ram_dev *rd, uint64_t *count, uint64_t at)
{
	++*count;
	if (rd->powered_off)
		return HDI_EIO;
	if (at && *count == at)
		return rd->fail_code ? rd->fail_code : HDI_EIO;
	return HDI_OK;
}

static int r_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct ram_dev *rd = ctx;
	int r = fault(rd, &rd->nreads, rd->fail_read_at);
	if (r)
		return r;
	if (off > rd->size || len > rd->size - off)
		return HDI_EINVAL;
	memcpy(buf, rd->data + off, len);
	return HDI_OK;
}

static int log_pending(struct ram_dev *rd, uint64_t off, const void *buf,
		       size_t len)
{
	struct ram_pending *p;
	if (rd->npending == rd->pending_cap) {
		size_t n = rd->pending_cap ? rd->pending_cap * 2 : 64;
		p = realloc(rd->pending, n * sizeof(*p));
		if (!p)
			return HDI_EIO;
		rd->pending = p;
		rd->pending_cap = n;
	}
	p = &rd->pending[rd->npending];
	p->data = malloc(len);
	if (!p->data)
		return HDI_EIO;
	memcpy(p->data, buf, len);
	p->off = off;
	p->len = len;
	rd->npending++;
	return HDI_OK;
}

static int r_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	struct ram_dev *rd = ctx;
	int r = fault(rd, &rd->nwrites, rd->fail_write_at);
	if (r)
		return r;
	if (rd->cut_after_writes && rd->nwrites > rd->cut_after_writes) {
		rd->powered_off = 1;
		return HDI_EIO;
	}
	if (off > rd->size || len > rd->size - off)
		return HDI_EINVAL;
	if (rd->durable && (r = log_pending(rd, off, buf, len)))
		return r;
	memcpy(rd->data + off, buf, len);
	return HDI_OK;
}

static void drop_pending(struct ram_dev *rd)
{
	size_t i;
	for (i = 0; i < rd->npending; i++)
		free(rd->pending[i].data);
	rd->npending = 0;
}

static int r_flush(void *ctx)
{
	struct ram_dev *rd = ctx;
	int r = fault(rd, &rd->nflushes, rd->fail_flush_at);
	if (r)
		return r;
	if (rd->durable) {
		memcpy(rd->durable, rd->data, rd->size);
		drop_pending(rd);
	}
	return HDI_OK;
}

static int r_size(void *ctx, uint64_t *bytes)
{
	*bytes = ((struct ram_dev *)ctx)->size;
	return HDI_OK;
}

static int r_grow(void *ctx, uint64_t bytes)
{
	struct ram_dev *rd = ctx;
	uint8_t *d, *u = NULL;
	if (rd->powered_off)
		return HDI_EIO;
	if (bytes <= rd->size)
		return HDI_OK;
	if (bytes > rd->cap)
		return HDI_ENOSPC;
	d = realloc(rd->data, bytes);
	if (!d)
		return HDI_ENOSPC;
	memset(d + rd->size, 0, bytes - rd->size);
	rd->data = d;
	if (rd->durable) {
		/* Growth is modelled as durable at once (like a file's size on
		 * a journalling filesystem); only the contents are pending. */
		u = realloc(rd->durable, bytes);
		if (!u)
			return HDI_ENOSPC;
		memset(u + rd->size, 0, bytes - rd->size);
		rd->durable = u;
	}
	rd->size = bytes;
	return HDI_OK;
}

static const struct hdi_bdev_ops ram_ops = {
	.version = HDI_BDEV_OPS_VERSION,
	.read = r_read,
	.write = r_write,
	.flush = r_flush,
	.size = r_size,
	.grow = r_grow,
};

int ram_dev_init(struct ram_dev *rd, uint64_t size, uint64_t cap,
		     uint32_t granule, int track_power_loss)
{
	memset(rd, 0, sizeof(*rd));
	rd->data = calloc(1, size ? size : 1);
	if (!rd->data)
		return HDI_ENOSPC;
	if (track_power_loss) {
		rd->durable = calloc(1, size ? size : 1);
		if (!rd->durable) {
			free(rd->data);
			return HDI_ENOSPC;
		}
	}
	rd->size = size;
	rd->cap = cap;
	rd->bdev.ops = &ram_ops;
	rd->bdev.ctx = rd;
	rd->bdev.granule = granule ? granule : 1;
	return HDI_OK;
}

void ram_dev_free(struct ram_dev *rd)
{
	drop_pending(rd);
	free(rd->pending);
	free(rd->data);
	free(rd->durable);
	memset(rd, 0, sizeof(*rd));
}

static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

void ram_dev_power_cycle(struct ram_dev *rd, int mode, uint32_t seed)
{
	size_t i, n = rd->npending;
	if (!rd->durable)
		return;
	if (mode && n) {
		/* Shuffle, then apply a random subset (each write 50%). */
		for (i = n - 1; i > 0; i--) {
			size_t j = xorshift(&seed) % (i + 1);
			struct ram_pending t = rd->pending[i];
			rd->pending[i] = rd->pending[j];
			rd->pending[j] = t;
		}
		for (i = 0; i < n; i++) {
			struct ram_pending *p = &rd->pending[i];
			size_t len = p->len;
			if (xorshift(&seed) & 1)
				continue;
			if (mode == 2 && len > 512 && (xorshift(&seed) & 1))
				len = (xorshift(&seed) % (len / 512)) * 512;
			memcpy(rd->durable + p->off, p->data, len);
		}
	}
	memcpy(rd->data, rd->durable, rd->size);
	drop_pending(rd);
	rd->powered_off = 0;
	rd->cut_after_writes = 0;
}
