/* core/qcow2_meta.c: what every qcow2 metadata write goes through: the
 * writable check, the corrupt bit, overlap checks, header updates, zero
 * fill, L1/L2 entry stores. The bottom of the write side: it allocates
 * nothing. */
#include "qcow2_wr.h"

#if !HDI_CONFIG_READONLY

int hdi_qcw_corrupt(struct qcow2 *q, const char *msg)
{
	struct qc_wr *w = hdi_qcw(q);
	uint8_t b[8];
	w->flags |= QW_CORRUPT;
	/* v2 has no feature bits: the refusal then lasts until close */
	if (q->version >= 3 && !(q->incompat & HDI_QCOW2_INCOMPAT_CORRUPT)) {
		q->incompat |= HDI_QCOW2_INCOMPAT_CORRUPT;
		hdi_st_be64(b, q->incompat);
		if (hdi_qc_pwrite(q, 72, b, 8) == HDI_OK)
			hdi_bdev_flush(q->file);
	}
	return hdi_qc_err(q, HDI_ECORRUPT, msg);
}

int hdi_qcw_begin(struct qcow2 *q)
{
	struct qc_wr *w;
	uint8_t b[8];
	int r;
	if (!q || q->state_magic != QC_STATE_MAGIC)
		return HDI_EINVAL;
	w = hdi_qcw(q);
	if (!(q->open_flags & HDI_QCOW2_RDWR))
		return hdi_qc_err(q, HDI_EROFS, "image is open read-only");
	if (q->view_snapshot != UINT32_MAX)
		return hdi_qc_err(q, HDI_EROFS, "a snapshot view is read-only");
	if (w->flags & QW_CORRUPT)
		return hdi_qc_err(q, HDI_EROFS,
				  "image is marked corrupt; repair it first (check --repair all)");
	if (w->flags & QW_NEED_REPAIR)
		return hdi_qc_err(q, HDI_EROFS,
				  "image was not closed cleanly; repair it first (check --repair all)");
	if (!(w->flags & QW_READY))
		return hdi_qc_err(q, HDI_EROFS, "image is not ready for writing");
	/* partial clusters are completed from the backing file */
	if (q->backing_name_size && !q->backing)
		return hdi_qc_err(q, HDI_EROFS,
				  "image opened without its backing file cannot be written");
	if ((w->flags & QW_LAZY) && !(w->flags & QW_DIRTY_SET)) {
		/* from here on the refcounts on disk may lag: say so first */
		hdi_st_be64(b, q->incompat | HDI_QCOW2_INCOMPAT_DIRTY);
		r = hdi_qcw_header_write(q, 72, b, 8);
		if (r < 0)
			return r;
		q->incompat |= HDI_QCOW2_INCOMPAT_DIRTY;
		w->flags |= QW_DIRTY_SET;
	}
	return HDI_OK;
}

static const char *ol_name(int hit)
{
	if (hit & QC_OL_HEADER) return "write would overwrite the image header";
	if (hit & QC_OL_ACTIVE_L1) return "write would overwrite the active L1 table";
	if (hit & QC_OL_ACTIVE_L2) return "write would overwrite an active L2 table";
	if (hit & QC_OL_REFCOUNT_TABLE) return "write would overwrite the refcount table";
	if (hit & QC_OL_REFCOUNT_BLOCK) return "write would overwrite a refcount block";
	if (hit & QC_OL_SNAPSHOT_TABLE) return "write would overwrite the snapshot table";
	if (hit & QC_OL_INACTIVE_L1) return "write would overwrite a snapshot L1 table";
	return "write would overwrite the bitmap directory";
}

/* Does an entry of the refcount table (to rt_used) or of the active L1
 * point into clusters [cs, cs+cn)? One cache slice at a time. */
static int walk(struct qcow2 *q, bool l1, uint64_t cs, uint64_t cn)
{
	struct qc_cache *c = l1 ? &q->l2c : &q->rc;
	uint64_t base = l1 ? q->active.offset : q->rt_offset;
	uint64_t n = l1 ? hdi_qcw(q)->l1_used : hdi_qcw(q)->rt_used, i = 0;
	uint64_t mask = l1 ? QC_L1E_OFFSET_MASK : QC_RTE_OFFSET_MASK;
	uint32_t per = c->slice_size >> 3;
	if (n > QW_WALK_MAX)
		return 0;
	if (l1 && n > q->active.size)
		n = q->active.size;
	while (i < n) {
		uint64_t off = base + i * 8u, soff = off & ~(uint64_t)(c->slice_size - 1u);
		uint32_t j = (uint32_t)((off - soff) >> 3);
		int hit = 0;
		void *s;
		int r = hdi_qc_cache_get(c, soff, l1 ? QC_KIND_L1 : QC_KIND_REFTABLE, &s);
		if (r < 0)
			return r;
		for (; j < per && i < n; j++, i++) {
			uint64_t ci = (hdi_ld_be64((uint8_t *)s + j * 8u) & mask) >> q->cluster_bits;
			if (ci && ci >= cs && ci - cs < cn)
				hit = l1 ? QC_OL_ACTIVE_L2 : QC_OL_REFCOUNT_BLOCK;
		}
		hdi_qc_cache_put(c, &s);
		if (hit)
			return hit;
	}
	return 0;
}

/* Entries up to the last non-zero one of a table, raw and unchecked (a
 * bad entry is the read path's to report). */
static int last_used(struct qcow2 *q, struct qc_cache *c, enum qc_kind kind,
		     uint64_t base, uint64_t n, uint64_t mask, uint64_t *used)
{
	uint32_t per = c->slice_size >> 3, j;
	uint64_t i;
	*used = 0;
	for (i = 0; i < n; i += per) {
		void *s;
		int r = hdi_qc_cache_get(c, base + (i << 3), kind, &s);
		if (r < 0)
			return r;
		for (j = 0; j < per && i + j < n; j++)
			if (hdi_ld_be64((uint8_t *)s + j * 8u) & mask)
				*used = i + j + 1u;
		hdi_qc_cache_put(c, &s);
	}
	return HDI_OK;
}

int hdi_qcw_scan_tables(struct qcow2 *q)
{
	struct qc_wr *w = hdi_qcw(q);
	int r = last_used(q, &q->rc, QC_KIND_REFTABLE, q->rt_offset, q->rt_entries,
			  QC_RTE_OFFSET_MASK, &w->rt_used);
	if (r == HDI_OK && q->active.size)
		r = last_used(q, &q->l2c, QC_KIND_L1, q->active.offset, q->active.size,
			      QC_L1E_OFFSET_MASK, &w->l1_used);
	return r;
}

int hdi_qcw_check(struct qcow2 *q, uint32_t mask, uint64_t off, uint64_t len)
{
	uint64_t cs = off >> q->cluster_bits, end;
	int hit;
	if (!len)
		return HDI_OK;
	end = ((off + len - 1u) >> q->cluster_bits) + 1u;
	hit = hdi_qc_overlap(q, mask & ~(QC_OL_ACTIVE_L2 | QC_OL_REFCOUNT_BLOCK), off, len);
	if (hit == 0 && (mask & QC_OL_REFCOUNT_BLOCK))
		hit = walk(q, false, cs, end - cs);
	if (hit == 0 && (mask & QC_OL_ACTIVE_L2))
		hit = walk(q, true, cs, end - cs);
	if (hit < 0)
		return hit;
	return hit ? hdi_qcw_corrupt(q, ol_name(hit)) : HDI_OK;
}

/* Walks that go through the other cache are safe from L1/L2 writes (the
 * refcount cache never depends on the L2 cache); refcount writes get the
 * cheap checks only, so a write-back never recurses into itself. */
int hdi_qcw_meta_hook(struct qcow2 *q, enum qc_kind kind, uint64_t off,
		      uint32_t len)
{
	uint32_t m;
	switch (kind) {
	case QC_KIND_L1:
		m = (QC_OL_CHEAP & ~QC_OL_ACTIVE_L1) | QC_OL_REFCOUNT_BLOCK;
		break;
	case QC_KIND_L2:
		m = QC_OL_CHEAP | QC_OL_REFCOUNT_BLOCK;
		break;
	case QC_KIND_REFTABLE:
		m = QC_OL_CHEAP & ~QC_OL_REFCOUNT_TABLE;
		break;
	case QC_KIND_REFBLOCK:
		m = QC_OL_CHEAP;
		break;
	default:
		m = QC_OL_HEADER | QC_OL_ACTIVE_L1 | QC_OL_REFCOUNT_TABLE;
		break;
	}
	return hdi_qcw_check(q, m, off, len);
}

int hdi_qcw_header_write(struct qcow2 *q, uint32_t off, const void *buf,
			 uint32_t len)
{
	int r = hdi_qc_pwrite(q, off, buf, len);
	return r < 0 ? r : hdi_bdev_flush(q->file);
}

int hdi_qcw_zero_fill(struct qcow2 *q, uint64_t off, uint64_t len)
{
	memset(q->scratch, 0, q->scratch_size);
	while (len) {
		size_t n = (size_t)hdi_min64(len, q->scratch_size);
		int r = hdi_qc_pwrite(q, off, q->scratch, n);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return HDI_OK;
}

static int set_u64(struct qcow2 *q, enum qc_kind kind, uint64_t off,
		   uint64_t v1, bool two, uint64_t v2)
{
	struct qc_cache *c = &q->l2c;
	uint64_t soff = off & ~(uint64_t)(c->slice_size - 1u);
	void *s;
	int r = hdi_qc_cache_get(c, soff, kind, &s);
	if (r < 0)
		return r;
	hdi_st_be64((uint8_t *)s + (off - soff), v1);
	if (two)
		hdi_st_be64((uint8_t *)s + (off - soff) + 8u, v2);
	hdi_qc_cache_mark_dirty(c, s);
	hdi_qc_cache_put(c, &s);
	return HDI_OK;
}

int hdi_qcw_set_l1(struct qcow2 *q, uint64_t idx, uint64_t entry)
{
	if (idx >= q->active.size)
		return HDI_EINVAL;
	if (entry && idx + 1u > hdi_qcw(q)->l1_used)
		hdi_qcw(q)->l1_used = idx + 1u;
	return set_u64(q, QC_KIND_L1, q->active.offset + idx * 8u, entry, false, 0);
}

int hdi_qcw_set_l2(struct qcow2 *q, uint64_t l2_off, uint64_t idx,
		   uint64_t entry, uint64_t bitmap)
{
	return set_u64(q, QC_KIND_L2, l2_off + idx * q->l2_entry_bytes, entry,
		       q->l2_entry_bytes == 16u, bitmap);
}

#endif /* !HDI_CONFIG_READONLY */
