/* host_test/unit/t_qcow2_backing_close.c: opts.close_backing gives back
 * every backing device open_backing returned, exactly once: when the
 * image is closed, and when a chain's open fails half-way. */
#include "unit.h"
#include "qimg.h"
#include <stdio.h>

/* top -> mid (qcow2) -> base (raw RAM device) */
struct chain {
	struct qimg mid;
	struct ram_dev base;
	unsigned opens, closes;
};

static void name_backing(struct qimg *m, const char *name, const char *fmt)
{
	uint8_t *h = m->rd.data;
	uint64_t off = 112;
	qi_be32(h + off, 0xe2792aca);
	qi_be32(h + off + 4, (uint32_t)strlen(fmt));
	memcpy(h + off + 8, fmt, strlen(fmt));
	off += 8 + ((strlen(fmt) + 7) & ~7u);
	qi_be32(h + off, 0);
	qi_be32(h + off + 4, 0);
	off += 8;
	memcpy(h + off, name, strlen(name));
	qi_be64(h + 8, off);
	qi_be32(h + 16, (uint32_t)strlen(name));
}

static void close_bk(void *ctx, struct hdi_bdev *dev)
{
	struct chain *c = ctx;
	c->closes++;
	if (dev == hdi_qcow2_bdev(&c->mid.q))
		CHECK_EQ(hdi_qcow2_close(&c->mid.q), HDI_OK);
	else
		CHECK(dev == &c->base.bdev);
}

static int open_bk(void *ctx, const char *name, const char *fmt, unsigned depth,
		   struct hdi_bdev **out)
{
	struct chain *c = ctx;
	struct hdi_qcow2_opts o;
	int r;
	if (depth == 1) {           /* mid's backing: the raw base */
		c->opens++;
		*out = &c->base.bdev;
		return HDI_OK;
	}
	memset(&o, 0, sizeof o);
	o.workspace = c->mid.ws;
	o.workspace_size = c->mid.ws_size;
	o.open_backing = open_bk;
	o.close_backing = close_bk;
	o.backing_ctx = c;
	o.depth = depth + 1;
	r = hdi_qcow2_open(&c->mid.q, &c->mid.rd.bdev, &o);
	if (r < 0)
		return r;
	c->opens++;
	*out = hdi_qcow2_bdev(&c->mid.q);
	return HDI_OK;
}

static int open_top(struct qimg *top, struct chain *c, uint32_t base_granule)
{
	memset(c, 0, sizeof *c);
	qi_init(&c->mid, 12, 1 << 20, 3, 0);
	name_backing(&c->mid, "base.raw", "raw");
	c->mid.ws_size = HDI_QCOW2_WORKSPACE_MIN;
	c->mid.ws = malloc(c->mid.ws_size);
	ram_dev_init(&c->base, 1 << 20, 0, base_granule, 0);
	qi_init(top, 12, 1 << 20, 3, 0);
	name_backing(top, "mid.qcow2", "qcow2");
	top->ws_size = HDI_QCOW2_WORKSPACE_MIN;
	top->ws = malloc(top->ws_size);
	memset(&top->o, 0, sizeof top->o);
	top->o.workspace = top->ws;
	top->o.workspace_size = top->ws_size;
	top->o.open_backing = open_bk;
	top->o.close_backing = close_bk;
	top->o.backing_ctx = c;
	return hdi_qcow2_open(&top->q, &top->rd.bdev, &top->o);
}

TEST(qcow2_backing_close_whole_chain)
{
	struct qimg top;
	struct chain c;
	uint8_t buf[512];
	CHECK_EQ(open_top(&top, &c, 512), HDI_OK);
	CHECK_EQ(c.opens, 2);
	CHECK_EQ(c.closes, 0);
	CHECK_EQ(hdi_qcow2_read(&top.q, 4096, buf, sizeof buf), HDI_OK);
	CHECK_EQ(hdi_qcow2_close(&top.q), HDI_OK);
	CHECK_EQ(c.closes, 2);     /* mid by top, base by mid */
	ram_dev_free(&c.base);
	qi_free(&c.mid);
	qi_free(&top);
}

/* The base comes back with a granule the core cannot use: mid's open fails
 * after its backing was opened, then top's open fails. Nothing leaks. */
TEST(qcow2_backing_close_after_failed_open)
{
	struct qimg top;
	struct chain c;
	CHECK(open_top(&top, &c, 2 * HDI_GRANULE_MAX) < 0);
	CHECK_EQ(c.opens, 1);
	CHECK_EQ(c.closes, 1);
	ram_dev_free(&c.base);
	qi_free(&c.mid);
	qi_free(&top);
}
