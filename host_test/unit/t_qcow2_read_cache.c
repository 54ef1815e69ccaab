/* host_test/unit/t_qcow2_read_cache.c: the qcow2 slice cache: hits and
 * LRU eviction, write-back of dirty slices, the flush dependency between
 * caches (refcounts before L2), the write hook, pinning and discard. */
#include "unit.h"
#include "qimg.h"
#include "../../core/qcow2_int.h"

struct hook_log { int n; enum qc_kind kind[64]; uint64_t off[64]; int fail; };
static struct hook_log hl;

static int hook(struct qcow2 *q, enum qc_kind kind, uint64_t off, uint32_t len)
{
	(void)q;
	(void)len;
	if (hl.n < 64) {
		hl.kind[hl.n] = kind;
		hl.off[hl.n] = off;
	}
	hl.n++;
	return hl.fail;
}

/* A 64 KiB-cluster image with room for a few tables past the end. */
static struct qcow2 *setup(struct qimg *m, size_t ws)
{
	qi_init(m, 16, 1 << 20, 3, 0);
	qi_alloc(m, 8u << 16);
	CHECK_EQ(qi_open(m, ws), HDI_OK);
	memset(&hl, 0, sizeof hl);
	hdi_qc(&m->q)->meta_write_hook = hook;
	return hdi_qc(&m->q);
}

TEST(qcache_hit_evict_writeback)
{
	struct qimg m;
	struct qcow2 *q = setup(&m, HDI_QCOW2_WORKSPACE_MIN);
	struct qc_cache *c = &q->l2c;
	uint64_t base = m.rd.size - (8u << 16), i, reads;
	void *s;
	CHECK(c->nslots >= 4);
	CHECK(c->slice_size >= 512 && c->slice_size <= 4096);
	CHECK_EQ(hdi_qc_cache_get(c, base, QC_KIND_L2, &s), HDI_OK);
	((uint8_t *)s)[0] = 0xab;
	hdi_qc_cache_mark_dirty(c, s);
	hdi_qc_cache_put(c, &s);
	CHECK(s == NULL);
	reads = m.rd.nreads;
	CHECK_EQ(hdi_qc_cache_get(c, base, QC_KIND_L2, &s), HDI_OK);   /* hit */
	CHECK_EQ(m.rd.nreads, reads);
	CHECK(((uint8_t *)s)[0] == 0xab);
	hdi_qc_cache_put(c, &s);
	CHECK(m.rd.data[base] == 0);                    /* still only cached */
	/* walk more slices than fit: the dirty one is written back */
	for (i = 1; i <= c->nslots; i++) {
		CHECK_EQ(hdi_qc_cache_get(c, base + i * c->slice_size, QC_KIND_L2, &s), HDI_OK);
		hdi_qc_cache_put(c, &s);
	}
	CHECK(m.rd.data[base] == 0xab);
	CHECK_EQ(hl.n, 1);
	CHECK_EQ(hl.kind[0], QC_KIND_L2);
	CHECK_EQ(hl.off[0], base);
	CHECK_EQ(hdi_qc_cache_get(c, base + 3, QC_KIND_L2, &s), HDI_EINVAL);
	qi_free(&m);
}

TEST(qcache_dependency_refcounts_first)
{
	struct qimg m;
	struct qcow2 *q = setup(&m, 1 << 20);
	uint64_t base = m.rd.size - (8u << 16);
	void *s;
	uint64_t flushes;
	CHECK_EQ(hdi_qc_cache_get(&q->l2c, base, QC_KIND_L2, &s), HDI_OK);
	((uint8_t *)s)[1] = 1;
	hdi_qc_cache_mark_dirty(&q->l2c, s);
	hdi_qc_cache_put(&q->l2c, &s);
	CHECK_EQ(hdi_qc_cache_get(&q->rc, base + (1u << 16), QC_KIND_REFBLOCK, &s), HDI_OK);
	((uint8_t *)s)[1] = 2;
	hdi_qc_cache_mark_dirty(&q->rc, s);
	hdi_qc_cache_put(&q->rc, &s);
	CHECK_EQ(hdi_qc_cache_set_dependency(&q->l2c, &q->rc), HDI_OK);
	flushes = m.rd.nflushes;
	CHECK_EQ(hdi_qc_cache_flush(&q->l2c), HDI_OK);
	CHECK_EQ(hl.n, 2);
	CHECK_EQ(hl.kind[0], QC_KIND_REFBLOCK);      /* refcounts reach disk first */
	CHECK_EQ(hl.kind[1], QC_KIND_L2);
	CHECK(m.rd.nflushes >= flushes + 2);         /* a flush between the two */
	CHECK(q->l2c.depends == NULL);
	CHECK(hdi_qc_cache_clean(&q->l2c) && hdi_qc_cache_clean(&q->rc));
	/* depends_on_flush: the device is flushed before the next write-back */
	CHECK_EQ(hdi_qc_cache_get(&q->l2c, base, QC_KIND_L2, &s), HDI_OK);
	hdi_qc_cache_mark_dirty(&q->l2c, s);
	hdi_qc_cache_put(&q->l2c, &s);
	hdi_qc_cache_depends_on_flush(&q->l2c);
	flushes = m.rd.nflushes;
	CHECK_EQ(hdi_qc_cache_write(&q->l2c), HDI_OK);
	CHECK_EQ(m.rd.nflushes, flushes + 1);
	qi_free(&m);
}

TEST(qcache_hook_error_pins_discard)
{
	struct qimg m;
	struct qcow2 *q = setup(&m, HDI_QCOW2_WORKSPACE_MIN);
	struct qc_cache *c = &q->rc;
	uint64_t base = m.rd.size - (8u << 16), i;
	void *s, *pins[64];
	CHECK_EQ(hdi_qc_cache_get(c, base, QC_KIND_REFBLOCK, &s), HDI_OK);
	((uint8_t *)s)[0] = 9;
	hdi_qc_cache_mark_dirty(c, s);
	hdi_qc_cache_put(c, &s);
	hl.fail = HDI_ECORRUPT;                      /* overlap check says no */
	CHECK_EQ(hdi_qc_cache_flush(c), HDI_ECORRUPT);
	CHECK(m.rd.data[base] == 0);
	CHECK(!hdi_qc_cache_clean(c));
	hdi_qc_cache_discard(c, base, 1u << 16);     /* freed: never written */
	CHECK(hdi_qc_cache_clean(c));
	hl.fail = 0;
	CHECK_EQ(hdi_qc_cache_flush(c), HDI_OK);
	CHECK(m.rd.data[base] == 0);
	/* every slot pinned: a clean error, not an eviction */
	for (i = 0; i < c->nslots && i < 64; i++)
		CHECK_EQ(hdi_qc_cache_get(c, base + i * c->slice_size, QC_KIND_REFBLOCK, &pins[i]), HDI_OK);
	CHECK_EQ(hdi_qc_cache_get(c, base + i * c->slice_size, QC_KIND_REFBLOCK, &s), HDI_ENOMEM);
	CHECK_EQ(hdi_qc_cache_invalidate(c), HDI_EBUSY);
	while (i--)
		hdi_qc_cache_put(c, &pins[i]);
	CHECK_EQ(hdi_qc_cache_invalidate(c), HDI_OK);
	qi_free(&m);
}

TEST(qcache_workspace_borrow)
{
	struct qimg m;
	struct qcow2 *q = setup(&m, 1 << 20);
	void *area;
	size_t got;
	uint8_t buf[512];
	CHECK_EQ(hdi_qc_ws_borrow(q, 600 << 10, &area, &got), HDI_OK);
	CHECK(got >= (600 << 10) - 8 && area != NULL);
	CHECK((uint8_t *)area >= q->ws && (uint8_t *)area + got <= q->ws + q->ws_size);
	memset(area, 0x5a, got);                    /* caches must not care */
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, sizeof buf), HDI_OK);
	CHECK_EQ(hdi_qc_ws_return(q), HDI_OK);
	CHECK_EQ(hdi_qc_ws_borrow(q, 1 << 30, &area, &got), HDI_OK);
	CHECK(got <= q->ws_size - hdi_qc_ws_min(q));
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, sizeof buf), HDI_OK);
	CHECK_EQ(hdi_qc_ws_return(q), HDI_OK);
	qi_free(&m);
}
