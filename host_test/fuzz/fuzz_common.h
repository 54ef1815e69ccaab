/* host_test/fuzz/fuzz_common.h: what the libFuzzer targets share: the input
 * as a device that traps writes, and a qcow2 open with a backing chain
 * (raw, or the same input again as qcow2, so chains and loops get fuzzed). */
#ifndef HDI_FUZZ_COMMON_H
#define HDI_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hdi/qcow2.h"
#include "dev_ram.h"

/* A contract the library broke: libFuzzer reports the abort as a crash. */
#define FZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz: %s:%d: broken contract: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* ---- the input as a read-only device: any write is a bug ------------- */
struct fz_dev {
	struct hdi_bdev bdev;
	struct ram_dev rd;
};

static int fz_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct ram_dev *rd = ctx;
	return rd->bdev.ops->read(rd, off, buf, len);
}
static int fz_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	(void)ctx; (void)buf;
	fprintf(stderr, "fuzz: write of %zu bytes at %llu on a read-only path\n",
		len, (unsigned long long)off);
	abort();
}
static int fz_flush(void *ctx) { (void)ctx; return HDI_OK; }
static int fz_size(void *ctx, uint64_t *bytes)
{
	struct ram_dev *rd = ctx;
	return rd->bdev.ops->size(rd, bytes);
}
static const struct hdi_bdev_ops fz_ops = {
	HDI_BDEV_OPS_VERSION, fz_read, fz_write, fz_flush, fz_size, NULL };

/* Inputs whose length is a multiple of 512 (what qemu-img makes) are served
 * with a 512-byte granule, others byte-granular: both paths get fuzzed. */
static inline int fz_dev_init(struct fz_dev *d, const uint8_t *data, size_t size)
{
	uint32_t granule = (size && !(size & 511)) ? 512 : 1;
	if (ram_dev_init(&d->rd, size, 0, granule, 0))
		return -1;
	if (size)
		memcpy(d->rd.data, data, size);
	d->bdev.ops = &fz_ops;
	d->bdev.ctx = &d->rd;
	d->bdev.granule = granule;
	d->bdev.flags = HDI_BDEV_RDONLY;
	return 0;
}
static inline void fz_dev_free(struct fz_dev *d) { ram_dev_free(&d->rd); }

/* ---- qcow2 with a backing chain -------------------------------------- */
#define FZ_LEVELS (HDI_QCOW2_MAX_CHAIN + 2)
#define FZ_WS_BIG HDI_QCOW2_WORKSPACE_COMPRESSED(2u << 20)
#define FZ_WS_MIN HDI_QCOW2_WORKSPACE_MIN

struct fz_chain {
	const uint8_t *data;
	size_t size;
	struct fz_dev dev[FZ_LEVELS];
	int dev_used[FZ_LEVELS];
	hdi_qcow2_t q[FZ_LEVELS];
	int q_open[FZ_LEVELS];
	void *ws[FZ_LEVELS];
	struct fz_dev raw;           /* a raw backing file: a pattern */
	int raw_used;
};

static int fz_open_level(struct fz_chain *c, unsigned depth, size_t ws_size);

static int fz_backing(void *ctx, const char *name, const char *fmt,
		      unsigned depth, struct hdi_bdev **out)
{
	struct fz_chain *c = ctx;
	int r;
	/* The core caps the chain at HDI_QCOW2_MAX_CHAIN; going deeper is a bug. */
	FZ_ASSERT(depth + 1 < FZ_LEVELS);
	FZ_ASSERT(name != NULL && fmt != NULL);
	if (!strcmp(fmt, "raw") || name[0] == 'r') {
		if (!c->raw_used) {
			static uint8_t pattern[192 * 1024 + 5];
			size_t i;
			for (i = 0; i < sizeof pattern; i++)
				pattern[i] = (uint8_t)(i * 131 + (i >> 9));
			if (fz_dev_init(&c->raw, pattern, sizeof pattern))
				return HDI_ENOMEM;
			c->raw_used = 1;
		}
		*out = &c->raw.bdev;
		return HDI_OK;
	}
	r = fz_open_level(c, depth + 1, FZ_WS_MIN);
	if (r)
		return r;
	*out = hdi_qcow2_bdev(&c->q[depth + 1]);
	FZ_ASSERT(*out != NULL);
	return HDI_OK;
}

/* Workspaces of exactly the asked size (so ASan sees overruns), kept
 * across runs: a 4 MiB malloc per run would dominate the fuzzing speed. */
static void *fz_workspace(unsigned depth, size_t size)
{
	static void *big[FZ_LEVELS], *min[FZ_LEVELS];
	void **slot = size == FZ_WS_BIG ? &big[depth] : size == FZ_WS_MIN ? &min[depth] : NULL;
	if (!slot)
		return NULL;
	if (!*slot)
		*slot = malloc(size);
	return *slot;
}

static int fz_open_level(struct fz_chain *c, unsigned depth, size_t ws_size)
{
	struct hdi_qcow2_opts o;
	int r;
	FZ_ASSERT(!c->q_open[depth]);
	if (!c->dev_used[depth]) {
		if (fz_dev_init(&c->dev[depth], c->data, c->size))
			return HDI_ENOMEM;
		c->dev_used[depth] = 1;
	}
	c->ws[depth] = fz_workspace(depth, ws_size);
	if (!c->ws[depth])
		return HDI_ENOMEM;
	memset(&o, 0, sizeof o);
	o.workspace = c->ws[depth];
	o.workspace_size = ws_size;
	o.open_backing = fz_backing;
	o.backing_ctx = c;
	o.depth = depth;
	r = hdi_qcow2_open(&c->q[depth], &c->dev[depth].bdev, &o);
	FZ_ASSERT(r <= 0);
	if (r == HDI_OK)
		c->q_open[depth] = 1;
	return r;
}

/* Opens the input as the top image; returns the open result. */
static inline int fz_open(struct fz_chain *c, const uint8_t *data, size_t size,
		   size_t ws_size)
{
	memset(c, 0, sizeof *c);
	c->data = data;
	c->size = size;
	return fz_open_level(c, 0, ws_size);
}

/* Closes the top first (it reads through the ones below), then the rest.
 * Close must not fail with a write on read-only images (the device traps). */
static inline void fz_close(struct fz_chain *c)
{
	unsigned i;
	for (i = 0; i < FZ_LEVELS; i++) {
		if (c->q_open[i])
			hdi_qcow2_close(&c->q[i]);
		c->q_open[i] = 0;
	}
	for (i = 0; i < FZ_LEVELS; i++) {
		if (c->dev_used[i])
			fz_dev_free(&c->dev[i]);
		c->ws[i] = NULL;
		c->dev_used[i] = 0;
	}
	if (c->raw_used)
		fz_dev_free(&c->raw);
	c->raw_used = 0;
}

#endif
