/* core/qcow2_workspace.c: the caller's workspace carved into bounce,
 * scratch, decompression buffers and the two metadata caches; lending its
 * tail; writing the caches back (the flush every layer above shares). */
#include "hdi/inflate.h"
#include "hdi/zstd.h"
#include "qcow2_int.h"

/* ---- workspace ---------------------------------------------------------- */
#define SCRATCH_MIN   4096u
#define SCRATCH_MAX   (1u << 20)
#define SLOT_COST     (sizeof(uint64_t) * 3 + sizeof(uint32_t))
#define CACHE_MIN     (8u * (512u + 32u) + 64u)  /* >= 2 x 4 slots of 512 */

static size_t align8(size_t v) { return (v + 7u) & ~(size_t)7u; }

/* One granule of the file or the backing file (at least a sector, which
 * covers a qcow2 backing view), for unaligned edges of their reads. */
static size_t bounce_size(const struct qcow2 *q)
{
	size_t g = 512u;
	if (q->file->granule > g)
		g = q->file->granule;
	if (q->backing && q->backing->granule > g)
		g = q->backing->granule;
	return align8(g);
}

size_t hdi_qc_ws_min(const struct qcow2 *q)
{
	return 8u + bounce_size(q) + SCRATCH_MIN + CACHE_MIN;
}

/* HDI_QCOW2_WORKSPACE_COMPRESSED reserves 16 KiB for the inflate or
 * zstd tables (an image uses one compression type) */
#define Z_WORK_SIZE (HDI_ZSTD_WORK_SIZE > HDI_INFLATE_WORK_SIZE ? \
		     HDI_ZSTD_WORK_SIZE : HDI_INFLATE_WORK_SIZE)
HDI_STATIC_ASSERT(Z_WORK_SIZE + 8u <= 16384u, z_work_fits_macro);

static size_t z_need(const struct qcow2 *q)
{
	return align8(2u * (size_t)q->cluster_size) + q->cluster_size +
	       align8(Z_WORK_SIZE);
}

/* The largest slice (512..4096, <= cluster) that still gives 16 slots. */
static uint32_t pick_slice(const struct qcow2 *q, size_t cache_bytes)
{
	uint32_t s = 4096u;
	while (s > 512u && (s > q->cluster_size ||
			    cache_bytes / (s + 32u) < 16u))
		s >>= 1;
	return s;
}

int hdi_qc_ws_layout(struct qcow2 *q)
{
	uint8_t *p = (uint8_t *)(((uintptr_t)q->ws + 7u) & ~(uintptr_t)7u);
	uint8_t *end = q->ws + q->ws_size - q->ws_borrowed;
	size_t avail, sc, l2b;
	uint32_t slice;
	int r;
	if (end < p || (size_t)(end - p) < hdi_qc_ws_min(q) - 8u)
		return hdi_qc_err(q, HDI_ENOMEM, "workspace too small");
	q->bounce = p;
	p += bounce_size(q);
	avail = (size_t)(end - p);
	q->z_in = q->z_out = q->z_work = NULL;
	q->z_in_size = 0;
	q->z_valid = false;
	/* compressed buffers first (all or nothing), then scratch, caches */
	if (avail >= z_need(q) + SCRATCH_MIN + CACHE_MIN) {
		q->z_in = p;
		q->z_in_size = 2u * (size_t)q->cluster_size;
		p += align8(q->z_in_size);
		q->z_out = p;
		p += q->cluster_size;
		q->z_work = p;
		p += align8(Z_WORK_SIZE);
		avail -= z_need(q);
	}
	sc = avail / 16u;
	sc = sc < SCRATCH_MIN ? SCRATCH_MIN : sc > SCRATCH_MAX ? SCRATCH_MAX : sc;
	sc &= ~(size_t)(SCRATCH_MIN - 1u);
	q->scratch = p;
	q->scratch_size = sc;
	p += sc;
	avail -= sc;
	slice = pick_slice(q, avail);
	/* L1/L2 lookups are the hot path; refcounts matter to writes/check */
	l2b = avail - avail / 4u;
	if (avail / 4u < 3u * (slice + 32u) + 64u)
		l2b = avail - (3u * (slice + 32u) + 64u);
	r = hdi_qc_cache_init(&q->l2c, q, p, l2b, slice);
	if (r == HDI_OK)
		r = hdi_qc_cache_init(&q->rc, q, p + l2b, avail - l2b, slice);
	if (r < 0)
		return hdi_qc_err(q, HDI_ENOMEM, "workspace too small for the metadata caches");
	return HDI_OK;
}

int hdi_qc_caches_flush(struct qcow2 *q)
{
	int r = hdi_qc_cache_write(&q->rc);
	if (r == HDI_OK)
		r = hdi_qc_cache_write(&q->l2c);
	if (r == HDI_OK && !(q->file->flags & HDI_BDEV_RDONLY) &&
	    (q->open_flags & HDI_QCOW2_RDWR))
		r = hdi_bdev_flush(q->file);
	return r;
}

static bool caches_pinned_or_dirty(struct qcow2 *q)
{
	return hdi_qc_cache_invalidate(&q->l2c) < 0 ||
	       hdi_qc_cache_invalidate(&q->rc) < 0;
}

int hdi_qc_ws_borrow(struct qcow2 *q, size_t want, void **area, size_t *got)
{
	size_t spare, mine = hdi_qc_ws_min(q);
	int r = hdi_qc_caches_flush(q);
	*area = NULL;
	*got = 0;
	if (r < 0)
		return r;
	if (q->ws_borrowed || caches_pinned_or_dirty(q))
		return hdi_qc_err(q, HDI_EBUSY, "workspace already lent or caches in use");
	spare = q->ws_size > mine ? (q->ws_size - mine) & ~(size_t)7u : 0;
	if (want > spare)
		want = spare;
	want &= ~(size_t)7u;
	q->ws_borrowed = want;
	r = hdi_qc_ws_layout(q);
	if (r < 0) {
		q->ws_borrowed = 0;
		hdi_qc_ws_layout(q);
		return r;
	}
	/* the lent tail starts 8-aligned: ws_size - want, rounded up */
	*area = (void *)(((uintptr_t)(q->ws + q->ws_size - want) + 7u) & ~(uintptr_t)7u);
	*got = (size_t)(q->ws + q->ws_size - (uint8_t *)*area);
	return HDI_OK;
}

int hdi_qc_ws_return(struct qcow2 *q)
{
	int r = hdi_qc_caches_flush(q);
	if (r < 0)
		return r;
	if (caches_pinned_or_dirty(q))
		return hdi_qc_err(q, HDI_EBUSY, "metadata cache still in use");
	q->ws_borrowed = 0;
	return hdi_qc_ws_layout(q);
}

int hdi_qc_flush(struct qcow2 *q)
{
	int r = HDI_OK;
	if (q->rw)
		r = q->rw->flush(q);
	if (r == HDI_OK)
		r = hdi_qc_caches_flush(q);
	return r;
}
