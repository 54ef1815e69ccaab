/* core/qcow2_amend.c: qemu-img amend: compat 0.10 <-> 1.1, lazy refcounts
 * on and off, refcount width (qcow2_refwidth.c), in QEMU's order: upgrade
 * first, downgrade last. A downgrade refuses what v2 cannot express
 * (extended L2, zstd, other incompatible bits) and turns zero clusters
 * into zeros v2 can read. */
#include "qcow2_hdr.h"

#if !HDI_CONFIG_READONLY

#define LAZY HDI_QCOW2_COMPAT_LAZY_REFCOUNTS

/* lazy: the lazy refcounts asked for when they change, else 0 (QEMU
 * checks them only then). */
static int check_opts(struct qcow2 *q, uint32_t v, int lazy, uint32_t rb)
{
	if (v != 2u && v != 3u)
		return hdi_qc_err(q, HDI_EINVAL, "compat must be 0.10 or 1.1");
	if (!rb || rb > 64u || (rb & (rb - 1u)))
		return hdi_qc_err(q, HDI_EINVAL, "refcount_bits must be a power of two up to 64");
	if (lazy && v < 3u)
		return hdi_qc_err(q, HDI_EINVAL, "lazy refcounts need compat 1.1");
	if (rb != 16u && v < 3u)
		return hdi_qc_err(q, HDI_EINVAL, "refcount widths other than 16 bits need compat 1.1");
	/* zstd without compressed clusters goes (as QEMU: checked later) */
	if (v < q->version && (q->incompat & ~(HDI_QCOW2_INCOMPAT_DIRTY |
					       HDI_QCOW2_INCOMPAT_COMPRESSION)))
		return hdi_qc_err_num(q, HDI_EUNSUPP,
				      "cannot downgrade an image with incompatible features set: ",
				      q->incompat & ~HDI_QCOW2_INCOMPAT_DIRTY, "");
	return HDI_OK;
}

static int write_u64(struct qcow2 *q, uint32_t off, uint64_t v)
{
	uint8_t b[8];
	hdi_st_be64(b, v);
	return hdi_qcw_header_write(q, off, b, 8);
}

/* Every refcount on disk, then no dirty bit and no lazy mode. */
static int make_clean(struct qcow2 *q)
{
	struct qc_wr *w = hdi_qcw(q);
	int r = hdi_qcw_apply_frees(q);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->rc);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->l2c);
	if (r == HDI_OK && (q->incompat & HDI_QCOW2_INCOMPAT_DIRTY))
		r = write_u64(q, 72, q->incompat & ~HDI_QCOW2_INCOMPAT_DIRTY);
	if (r < 0)
		return r;
	q->incompat &= ~HDI_QCOW2_INCOMPAT_DIRTY;
	w->flags &= ~(QW_LAZY | QW_DIRTY_SET);
	return HDI_OK;
}

static int set_lazy(struct qcow2 *q, bool on)
{
	int r = on ? HDI_OK : make_clean(q);
	uint64_t c = on ? q->compat | LAZY : q->compat & ~LAZY;
	if (r == HDI_OK)
		r = write_u64(q, 80, c);
	if (r == HDI_OK)
		q->compat = c;
	return r;
}

/* Does an L2 table l1 reaches hold a compressed entry (want_comp) or a
 * zero-flag one? */
static int l1_has(struct qcow2 *q, const struct qc_l1 *l1, bool want_comp, bool *yes)
{
	uint64_t i, j, e, bm, l2;
	int r = HDI_OK;
	for (i = 0; r == HDI_OK && i < l1->size && !*yes; i++) {
		r = hdi_qc_l1_entry(q, l1, i, &e);
		if (r == HDI_OK)
			r = hdi_qc_l2_offset(q, e, &l2);
		for (j = 0; r == HDI_OK && l2 && j < (1ull << q->l2_bits) && !*yes; j++) {
			r = hdi_qc_l2_entry(q, l2, j, &e, &bm);
			*yes = want_comp ? (e & QC_OFLAG_COMPRESSED) != 0 :
			       !(e & QC_OFLAG_COMPRESSED) && (e & QC_OFLAG_ZERO);
		}
	}
	return r;
}

/* The same over every snapshot (and the active disk if active). */
static int image_has(struct qcow2 *q, bool active, bool want_comp, bool *yes)
{
	struct qc_snap_raw sr;
	uint32_t s;
	int r = HDI_OK;
	*yes = false;
	if (active)
		r = l1_has(q, &q->active, want_comp, yes);
	for (s = 0; r == HDI_OK && s < q->nb_snapshots && !*yes; s++) {
		struct qc_l1 l1 = { 0, 0, 0 };
		r = hdi_qc_snapshot_raw(q, s, &sr);
		l1.offset = sr.l1_offset;
		l1.size = sr.l1_size;
		if (r == HDI_OK)
			r = l1_has(q, &l1, want_comp, yes);
	}
	return r;
}

/* Zero entry idx of table l2 (at virtual offset voff) becomes what v2
 * reads as zeros: nothing when no backing file shows there, else a
 * cluster of written zeros. */
static int expand_one(hdi_qcow2_t *h, uint64_t l2, uint64_t idx, uint64_t e,
		      uint64_t voff, const uint8_t *z, size_t zn)
{
	struct qcow2 *q = hdi_qc(h);
	uint64_t o, len = hdi_min64(q->cluster_size, q->active.disk_size - voff);
	int r = HDI_OK;
	if (!q->backing || voff >= q->backing_size) {
		r = hdi_qcw_set_l2(q, l2, idx, 0, 0);
		return r == HDI_OK ? hdi_qcw_release(q, e & ~QC_OFLAG_ZERO) : r;
	}
	for (o = 0; r == HDI_OK && o < len; o += zn)
		r = hdi_qcow2_write(h, voff + o, z, (size_t)hdi_min64(zn, len - o));
	return r;
}

static int expand_l2(hdi_qcow2_t *h, uint64_t l1i, const uint8_t *z, size_t zn)
{
	struct qcow2 *q = hdi_qc(h);
	uint64_t j, e, bm, l2, n = 1ull << q->l2_bits;
	uint64_t base = l1i << hdi_qc_l1_shift(q);
	int r = HDI_OK;
	for (j = 0; r == HDI_OK && j < n && base + (j << q->cluster_bits) < q->active.disk_size; j++) {
		r = hdi_qc_l1_entry(q, &q->active, l1i, &e);
		if (r == HDI_OK)
			r = hdi_qc_l2_offset(q, e, &l2);
		if (r == HDI_OK)
			r = hdi_qc_l2_entry(q, l2, j, &e, &bm);
		if (r < 0 || (e & QC_OFLAG_COMPRESSED) || !(e & QC_OFLAG_ZERO))
			continue;
		/* a table shared with a snapshot is copied first */
		r = hdi_qcw_l2_for_write(q, base, &l2);
		if (r == HDI_OK)
			r = expand_one(h, l2, j, e, base + (j << q->cluster_bits), z, zn);
	}
	return r;
}

/* Zero clusters of the active disk become what v2 reads as zeros. */
static int expand_zeros(hdi_qcow2_t *h)
{
	struct qcow2 *q = hdi_qc(h);
	uint64_t i, e;
	void *z;
	size_t got;
	int r = hdi_qc_ws_borrow(q, 1u << 20, &z, &got), r2;
	if (r == HDI_OK && got < 512u)
		r = hdi_qc_err(q, HDI_ENOMEM, "workspace too small");
	if (r == HDI_OK)
		memset(z, 0, got);
	got &= ~(size_t)511u;
	for (i = 0; r == HDI_OK && i < q->active.size; i++) {
		r = hdi_qc_l1_entry(q, &q->active, i, &e);
		if (r == HDI_OK && (e & QC_L1E_OFFSET_MASK))
			r = expand_l2(h, i, z, got);
	}
	r2 = hdi_qc_ws_return(q);
	return r < 0 ? r : r2;
}

static int downgrade(hdi_qcow2_t *h)
{
	struct qcow2 *q = hdi_qc(h);
	struct qc_hdr_edit e = { 2, 0, false, NULL, NULL };
	bool zs, cs = false;
	int r = image_has(q, false, false, &zs);
	if (r == HDI_OK && zs)
		r = hdi_qc_err(q, HDI_EUNSUPP, "cannot downgrade: a snapshot has zero clusters");
	if (r == HDI_OK && q->compression_type != QC_COMPRESSION_ZLIB)
		r = image_has(q, true, true, &cs);
	if (r == HDI_OK && cs)
		r = hdi_qc_err(q, HDI_EUNSUPP, "cannot downgrade an image with zstd compression type and existing compressed clusters");
	if (r == HDI_OK && q->nb_bitmaps)
		r = hdi_qc_err(q, HDI_EUNSUPP, "cannot downgrade an image with bitmaps");
	if (r == HDI_OK)
		r = expand_zeros(h);
	if (r == HDI_OK)
		r = make_clean(q);
	return r == HDI_OK ? hdi_qch_rewrite(q, &e) : r;
}

int hdi_qcow2_amend(hdi_qcow2_t *h, const struct hdi_qcow2_amend_opts *o)
{
	struct qcow2 *q = hdi_qc(h);
	uint32_t v, rb;
	int lazy, r;
	r = o ? hdi_qcw_begin(q) : HDI_EINVAL;
	if (r < 0)
		return r;
	v = o->version ? o->version : q->version;
	rb = o->refcount_bits ? o->refcount_bits : q->refcount_bits;
	lazy = o->lazy_refcounts >= 0 ? o->lazy_refcounts : (q->compat & LAZY) != 0;
	r = check_opts(q, v, lazy && !(q->compat & LAZY), rb);
	if (r == HDI_OK && v > q->version) {
		struct qc_hdr_edit e = { 3, 0, false, NULL, NULL };
		r = hdi_qch_rewrite(q, &e);
		if (r == HDI_OK) {   /* as a fresh v3 header reads */
			q->refcount_order = 4;
			q->incompat = q->autoclear = 0;
		}
	}
	if (r == HDI_OK && rb != q->refcount_bits)
		r = hdi_qcw_refwidth(q, rb);
	if (r == HDI_OK && v >= 3u && lazy != ((q->compat & LAZY) != 0))
		r = set_lazy(q, lazy);
	/* a downgrade drops lazy refcounts with every compatible bit */
	if (r == HDI_OK && v < q->version)
		r = downgrade(h);
	return r;
}

#endif /* !HDI_CONFIG_READONLY */
