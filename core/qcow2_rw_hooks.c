/* core/qcow2_rw_hooks.c: what a read-write open adds and a clean close
 * removes: refcount repair of a dirty image, unknown autoclear bits,
 * persistent bitmaps (removed, their clusters freed), the lazy-refcounts
 * dirty bit; queued frees on flush. They form the q->rw table, which
 * hdi_qcow2_open (here) installs; the read side reaches them only so. */
#include "qcow2_wr.h"
#include "qcow2_check_int.h"

#if !HDI_CONFIG_READONLY

#define BM_ENTRY_HDR 24u
#define KNOWN_AUTOCLEAR HDI_QCOW2_AUTOCLEAR_BITMAPS

/* ---- header extensions ---------------------------------------------------- */
int hdi_qcw_rewrite_header(struct qcow2 *q, uint32_t drop, uint64_t autoclear)
{
	uint8_t *h = q->scratch;
	uint64_t end = q->ext_end, in, out, name = q->backing_name_offset;
	uint32_t nlen = q->backing_name_size;
	int r;
	if (name && name + nlen > end)
		end = name + nlen;
	if (end > q->scratch_size || end > q->cluster_size)
		return hdi_qc_err(q, HDI_EUNSUPP, "header extensions too large to rewrite");
	r = hdi_qc_pread(q, 0, h, (size_t)end);
	if (r < 0)
		return r;
	in = out = q->header_length;
	q->feature_table_offset = 0;
	while (in + 8u <= end) {
		uint32_t type = hdi_ld_be32(h + in), len = hdi_ld_be32(h + in + 4);
		uint64_t sz = 8u + (((uint64_t)len + 7u) & ~7ull);
		if (type == QC_EXT_END || in + sz > end)
			break;
		if (type != drop) {
			memmove(h + out, h + in, (size_t)sz);
			if (type == QC_EXT_FEATURE_TABLE)
				q->feature_table_offset = out + 8u;
			out += sz;
		}
		in += sz;
	}
	memset(h + out, 0, 8);   /* end of extensions */
	out += 8u;
	q->ext_end = out;
	if (nlen) {
		memmove(h + out, h + name, nlen);
		hdi_st_be64(h + 8, out);
		q->backing_name_offset = out;
		out += nlen;
	}
	memset(h + out, 0, (size_t)(end - out));
	if (q->version >= 3)
		hdi_st_be64(h + 88, autoclear);
	r = hdi_qcw_header_write(q, 0, h, (uint32_t)end);
	if (r == HDI_OK)
		q->autoclear = autoclear;
	return r;
}

/* ---- bitmaps ------------------------------------------------------------------ */
/* Frees the clusters of one bitmap: its data clusters, then its table. */
static int free_bitmap(struct qcow2 *q, uint64_t toff, uint32_t tsize)
{
	uint64_t i, tbytes = (uint64_t)tsize * 8u;
	uint8_t e[8];
	int r;
	if (!tsize || hdi_qc_offset_in_cluster(q, toff) || !hdi_qc_in_file(q, toff, tbytes))
		return hdi_qcw_corrupt(q, "invalid bitmap table");
	for (i = 0; i < tsize; i++) {
		uint64_t d;
		r = hdi_qc_pread(q, toff + i * 8u, e, 8);
		if (r < 0)
			return r;
		d = hdi_ld_be64(e) & QC_L2E_OFFSET_MASK;
		if (d) {
			r = hdi_qcw_free_now(q, d, q->cluster_size);
			if (r < 0)
				return r;
		}
	}
	return hdi_qcw_free_now(q, toff, tbytes);
}

/* Persistent bitmaps would go stale as we write without updating them,
 * so they are removed: the header first (nothing refers to them after
 * that), then their clusters are freed. */
static int drop_bitmaps(struct qcow2 *q)
{
	uint64_t dir = q->bitmap_dir_offset, size = q->bitmap_dir_size, rel = 0;
	uint32_t n = q->nb_bitmaps, i;
	uint8_t b[BM_ENTRY_HDR];
	int r = hdi_qcw_rewrite_header(q, QC_EXT_BITMAPS,
				       q->autoclear & ~HDI_QCOW2_AUTOCLEAR_BITMAPS);
	if (r < 0)
		return r;
	q->has_bitmaps_ext = false;
	q->nb_bitmaps = 0;
	q->bitmap_dir_offset = q->bitmap_dir_size = 0;
	for (i = 0; i < n; i++) {
		uint64_t len;
		if (rel + BM_ENTRY_HDR > size)
			return hdi_qcw_corrupt(q, "bitmap directory truncated");
		r = hdi_qc_pread(q, dir + rel, b, BM_ENTRY_HDR);
		if (r < 0)
			return r;
		len = (BM_ENTRY_HDR + (uint64_t)hdi_ld_be32(b + 20) +
		       hdi_ld_be16(b + 18) + 7u) & ~7ull;
		if (rel + len > size)
			return hdi_qcw_corrupt(q, "bitmap directory entry too large");
		r = free_bitmap(q, hdi_ld_be64(b), hdi_ld_be32(b + 8));
		if (r < 0)
			return r;
		rel += len;
	}
	return hdi_qcw_free_now(q, dir, size);
}

/* ---- a dirty image ------------------------------------------------------------- */
static int repair(struct qcow2 *q)
{
	/* The check clears the dirty bit (refcounts flushed first) only when
	 * nothing is left corrupt; a bit still set means the repair failed. */
	int r = hdi_qc_repair_dirty(q);
	if (r < 0)
		return r;
	if (q->incompat & HDI_QCOW2_INCOMPAT_DIRTY)
		return hdi_qc_err(q, HDI_ECORRUPT, "image was not closed cleanly and is still corrupt after repair");
	return HDI_OK;
}

int hdi_qc_rw_open(struct qcow2 *q)
{
	struct qc_wr *w = hdi_qcw(q);
	int r;
	memset(w, 0, sizeof(*w));
	if (q->incompat & HDI_QCOW2_INCOMPAT_CORRUPT) {
		w->flags |= QW_CORRUPT;   /* readable; writes refused */
		return HDI_OK;
	}
	if (q->incompat & HDI_QCOW2_INCOMPAT_DIRTY) {
		if (q->open_flags & HDI_QCOW2_NO_REPAIR) {
			w->flags |= QW_NEED_REPAIR;
			return HDI_OK;
		}
		r = repair(q);
		if (r < 0)
			return r;
	}
	/* from here every metadata write is overlap-checked */
	q->meta_write_hook = hdi_qcw_meta_hook;
	r = hdi_qcw_scan_tables(q);
	if (r < 0)
		return r;
	if (q->version >= 3 && (q->autoclear & ~KNOWN_AUTOCLEAR)) {
		uint8_t b[8];
		hdi_st_be64(b, q->autoclear & KNOWN_AUTOCLEAR);
		r = hdi_qcw_header_write(q, 88, b, 8);
		if (r < 0)
			return r;
		q->autoclear &= KNOWN_AUTOCLEAR;
	}
	if (q->has_bitmaps_ext) {
		r = drop_bitmaps(q);
		if (r < 0)
			return r;
	}
	if (q->version >= 3 && (q->compat & HDI_QCOW2_COMPAT_LAZY_REFCOUNTS))
		w->flags |= QW_LAZY;
	w->flags |= QW_READY;
	return HDI_OK;
}

int hdi_qc_rw_flush(struct qcow2 *q)
{
	return hdi_qcw_apply_frees(q);
}

int hdi_qc_rw_close(struct qcow2 *q)
{
	struct qc_wr *w = hdi_qcw(q);
	uint8_t b[8];
	int r = hdi_qcw_apply_frees(q);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->rc);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->l2c);
	if (r == HDI_OK && (w->flags & QW_DIRTY_SET)) {
		/* every refcount is on disk: the image is consistent again */
		hdi_st_be64(b, q->incompat & ~HDI_QCOW2_INCOMPAT_DIRTY);
		r = hdi_qcw_header_write(q, 72, b, 8);
		if (r == HDI_OK) {
			q->incompat &= ~HDI_QCOW2_INCOMPAT_DIRTY;
			w->flags &= ~QW_DIRTY_SET;
		}
	}
	return r;
}

static int rw_write(struct qcow2 *q, uint64_t off, const void *buf, size_t len)
{
	return hdi_qcow2_write((hdi_qcow2_t *)(void *)q, off, buf, len);
}

static const struct qc_rw_ops rw_ops = {
	.open = hdi_qc_rw_open,
	.flush = hdi_qc_rw_flush,
	.close = hdi_qc_rw_close,
	.write = rw_write,
};

int hdi_qcow2_open(hdi_qcow2_t *h, struct hdi_bdev *file,
		   const struct hdi_qcow2_opts *o)
{
	return hdi_qc_open(h, file, o, &rw_ops);
}

#endif /* !HDI_CONFIG_READONLY */
