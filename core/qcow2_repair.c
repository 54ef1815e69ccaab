/* core/qcow2_repair.c: the comparing and repairing half of qcow2 check:
 * stored refcounts read and written as QEMU's check does, compare_refcounts,
 * check_oflag_copied, the refcount structure rebuilt after the end of the
 * image, and clearing the dirty/corrupt bits. */
#include "qcow2_check_int.h"

#if !HDI_CONFIG_READONLY

#define HDR_INCOMPAT 72u
#define HDR_RT_OFFSET 48u   /* refcount_table_offset, then _clusters */

/* ---- stored refcounts ------------------------------------------------------ */
/* The refcount block holding cluster i: 0 = none, 1 returned when its
 * pointer is unaligned (QEMU's qcow2_get_refcount fails then). */
static int block_of(struct ck *c, uint64_t i, uint64_t *rb)
{
	struct qcow2 *q = c->q;
	uint64_t j = i >> q->rb_bits, e;
	int r;
	*rb = 0;
	if (j >= q->rt_entries)
		return HDI_OK;
	r = hdi_qc_ck_rt_entry(c, j, &e);
	if (r < 0)
		return r;
	e &= QC_RTE_OFFSET_MASK;
	if (hdi_qc_offset_in_cluster(q, e) || !hdi_qc_ck_reachable(e, q->cluster_size))
		return 1;
	*rb = e;
	return HDI_OK;
}

/* Slice of refcount block rb holding cluster i, and the entry in it. */
static uint64_t slice_of(const struct qcow2 *q, uint64_t rb, uint64_t i,
			 uint32_t *idx)
{
	uint64_t bi = i & ((1ull << q->rb_bits) - 1u);
	uint64_t byte = (bi << q->refcount_order) >> 3;
	uint32_t per_bits = q->rc.slice_bits + 3u - q->refcount_order;
	*idx = (uint32_t)(bi & ((1ull << per_bits) - 1u));
	return rb + (byte & ~(uint64_t)(q->rc.slice_size - 1u));
}

int hdi_qc_ck_get(struct ck *c, uint64_t i, uint64_t *v)
{
	struct qcow2 *q = c->q;
	uint64_t rb;
	uint32_t idx;
	void *s;
	int r = block_of(c, i, &rb);
	*v = 0;
	if (r != 0 || !rb)
		return r;
	r = hdi_qc_cache_get(&q->rc, slice_of(q, rb, i, &idx), QC_KIND_REFBLOCK, &s);
	if (r < 0)
		return r;
	*v = hdi_qc_refcount_ld(q, s, idx);
	hdi_qc_cache_put(&q->rc, &s);
	return HDI_OK;
}

/* ---- compare_refcounts -------------------------------------------------------- */
/* Cluster i against its stored refcount: entry idx of the pinned refcount
 * slice s, or 0 when s is NULL (no block, nothing to fix it in). */
static void compare_one(struct ck *c, uint32_t fix, struct ck_counts *n,
			uint64_t i, void *s, uint32_t idx)
{
	struct qcow2 *q = c->q;
	uint64_t r1 = s ? hdi_qc_refcount_ld(q, s, idx) : 0;
	uint64_t r2 = hdi_qc_refcount_ld(q, c->imrt, (uint32_t)(i - c->w0));
	uint64_t *fixed = NULL;
	if (r1 || r2)
		c->highest = i;
	if (r1 == r2)
		return;
	if (!r1)
		c->rebuild = true;
	else if (r1 > r2 && (fix & HDI_QCOW2_REPAIR_LEAKS))
		fixed = &n->leaks_fixed;
	else if (r1 < r2 && (fix & HDI_QCOW2_REPAIR_ERRORS))
		fixed = &n->corruptions_fixed;
	if (fixed) {
		hdi_qc_refcount_st(q, s, idx, r2);
		hdi_qc_cache_mark_dirty(&q->rc, s);
		if (!r2)   /* a freed cluster must not be read back as a table */
			hdi_qc_cache_discard(&q->l2c, i << q->cluster_bits, q->cluster_size);
		(*fixed)++;
	} else if (r1 < r2) {
		n->corruptions++;
	} else {
		n->leaks++;
	}
}

/* One refcount slice at a time; a missing block (or one past the end of
 * the file, which reads as zeros) without any cache traffic. */
int hdi_qc_ck_compare(struct ck *c, uint32_t fix, struct ck_counts *n)
{
	struct qcow2 *q = c->q;
	uint64_t i = c->w0, end = hdi_min64(c->w0 + c->wcap, c->imrt_size);
	uint64_t rend, send, rb;
	uint32_t idx, per = 1u << (q->rc.slice_bits + 3u - q->refcount_order);
	void *s;
	int r;
	while (i < end) {
		rend = hdi_min64(end, ((i >> q->rb_bits) + 1u) << q->rb_bits);
		r = block_of(c, i, &rb);
		if (r != 0) {   /* QEMU cannot read any refcount of this block */
			n->check_errors += rend - i;
			i = rend;
			continue;
		}
		if (!rb || rb >= q->file_size) {
			for (; i < rend; i++)
				compare_one(c, fix, n, i, NULL, 0);
			continue;
		}
		r = hdi_qc_cache_get(&q->rc, slice_of(q, rb, i, &idx), QC_KIND_REFBLOCK, &s);
		if (r < 0) {
			n->check_errors++;
			i++;
			continue;
		}
		for (send = hdi_min64(rend, i + (per - idx)); i < send; i++, idx++)
			compare_one(c, fix, n, i, s, idx);
		hdi_qc_cache_put(&q->rc, &s);
	}
	return HDI_OK;
}

/* ---- check_oflag_copied ------------------------------------------------------ */
static int meta_write(struct qcow2 *q, uint32_t ignore, uint64_t off,
		      const void *buf, size_t len)
{
	/* cheap checks only: one table walk per fixed entry would be quadratic */
	int r = hdi_qc_overlap(q, QC_OL_CHEAP & ~ignore, off, len);
	if (r > 0)
		return hdi_qc_err(q, HDI_ECORRUPT,
				  "repair would overwrite other metadata");
	if (r == HDI_OK)
		r = hdi_qc_pwrite(q, off, buf, len);
	hdi_qc_cache_discard(&q->l2c, off, len);
	return r;
}

static bool copied_wrong(uint64_t refcount, uint64_t e)
{
	return (refcount == 1u) != ((e & QC_OFLAG_COPIED) != 0);
}

/* The data clusters of one active L2 table, in scratch-sized chunks. */
static int oflag_l2(struct ck *c, uint64_t l2, bool repair)
{
	struct qcow2 *q = c->q;
	uint32_t esz = q->l2_entry_bytes, n = 1u << q->l2_bits;
	uint32_t per = (uint32_t)(q->scratch_size / esz), i, j, cnt, dirty;
	uint64_t e, rc;
	uint8_t *p;
	int r;
	for (i = 0; i < n; i += cnt) {
		cnt = n - i < per ? n - i : per;
		r = hdi_qc_ck_pread(q, q->file_size, l2 + (uint64_t)i * esz,
				    q->scratch, (size_t)cnt * esz);
		if (r < 0) {
			c->res->check_errors++;
			return r;
		}
		for (j = 0, dirty = 0, p = q->scratch; j < cnt; j++, p += esz) {
			e = hdi_ld_be64(p);
			if (hdi_qc_ck_type(q, e) != CK_NORMAL &&
			    hdi_qc_ck_type(q, e) != CK_ZERO_ALLOC)
				continue;
			if (hdi_qc_ck_get(c, (e & QC_L2E_OFFSET_MASK) >> q->cluster_bits, &rc))
				continue;
			if (!copied_wrong(rc, e))
				continue;
			c->res->corruptions++;
			if (repair) {
				hdi_st_be64(p, rc == 1u ? e | QC_OFLAG_COPIED : e & ~QC_OFLAG_COPIED);
				dirty++;
			}
		}
		if (!dirty)
			continue;
		r = meta_write(q, QC_OL_ACTIVE_L2, l2 + (uint64_t)i * esz, q->scratch,
			       (size_t)cnt * esz);
		if (r < 0) {
			c->res->check_errors++;
			return r;
		}
		c->res->corruptions -= dirty;
		c->res->corruptions_fixed += dirty;
	}
	return HDI_OK;
}

int hdi_qc_ck_oflag_copied(struct ck *c, uint32_t fix)
{
	struct qcow2 *q = c->q;
	struct hdi_qcow2_check_result *res = c->res;
	uint64_t i, off, e, l2, rc;
	uint8_t b[8];
	bool repair;
	int r;
	/* leaks-only repair touches flags only when the refcounts it fixed
	 * left nothing else wrong, so they can be trusted */
	repair = (fix & HDI_QCOW2_REPAIR_ERRORS) ||
		 ((fix & HDI_QCOW2_REPAIR_LEAKS) && !res->check_errors &&
		  !res->corruptions && !res->leaks);
	for (i = 0; i < q->active.size; i++) {
		off = q->active.offset + i * 8u;
		r = hdi_qc_ck_l1_read(q, q->file_size, off, &e);
		if (r < 0) {
			res->check_errors++;
			return r;
		}
		l2 = e & QC_L1E_OFFSET_MASK;
		if (!l2 || hdi_qc_ck_get(c, l2 >> q->cluster_bits, &rc))
			continue;
		if (copied_wrong(rc, e)) {
			res->corruptions++;
			if (repair) {
				hdi_st_be64(b, rc == 1u ? e | QC_OFLAG_COPIED : e & ~QC_OFLAG_COPIED);
				r = meta_write(q, QC_OL_ACTIVE_L1, off, b, 8);
				if (r == HDI_OK)
					r = hdi_bdev_flush(q->file);
				if (r < 0) {
					res->check_errors++;
					return r;
				}
				res->corruptions--;
				res->corruptions_fixed++;
			}
		}
		r = oflag_l2(c, l2, repair);
		if (r < 0)
			return r;
	}
	return HDI_OK;
}

/* ---- rebuild_refcount_structure ---------------------------------------------- */
/* Sizes the new structure placed at cluster n0: *krb refcount blocks (one
 * for every block-sized range up to the new end) and then a *krt-cluster
 * refcount table, which together must describe themselves too. */
static int rebuild_size(struct qcow2 *q, uint64_t n0, uint64_t *krb,
			uint64_t *krt)
{
	uint32_t rbb = q->rb_bits, eb = q->cluster_bits - 3u;
	uint64_t b = 0, t = 0, nb, nt, end;
	unsigned it;
	for (it = 0; it < 64u; it++) {
		end = n0 + b + t;
		nb = (end >> rbb) + ((end & ((1ull << rbb) - 1u)) != 0);
		nt = (nb >> eb) + ((nb & ((1ull << eb) - 1u)) != 0);
		if (nb == b && nt == t) {
			*krb = b;
			*krt = t;
			if ((t << q->cluster_bits) > QC_MAX_REFTABLE_BYTES)
				return hdi_qc_err(q, HDI_EUNSUPP,
						  "rebuilt refcount table would be too large");
			return HDI_OK;
		}
		b = nb;
		t = nt;
	}
	return HDI_EINVAL;
}

/* The window's counts are the new refcount blocks' contents. */
static int write_window(struct ck *c, uint64_t n0, uint64_t krb)
{
	struct qcow2 *q = c->q;
	uint32_t cb = q->cluster_bits, rbb = q->rb_bits, o = q->refcount_order;
	uint64_t j, j0 = c->w0 >> rbb, within;
	int r;
	if (c->wbits >= rbb) {
		for (j = j0; j < j0 + (c->wcap >> rbb) && j < krb; j++) {
			r = hdi_qc_pwrite(q, (n0 + j) << cb,
					  c->imrt + ((((j - j0) << rbb) << o) >> 3),
					  q->cluster_size);
			if (r < 0)
				return r;
		}
		return HDI_OK;
	}
	if (j0 >= krb)
		return HDI_OK;
	within = c->w0 - (j0 << rbb);
	return hdi_qc_pwrite(q, ((n0 + j0) << cb) + ((within << o) >> 3), c->imrt,
			     (size_t)((c->wcap << o) >> 3));
}

static int write_reftable(struct qcow2 *q, uint64_t n0, uint64_t krb, uint64_t krt)
{
	uint32_t cb = q->cluster_bits;
	uint64_t total = krt << (cb - 3u), at = (n0 + krb) << cb, i, k;
	uint64_t per = q->scratch_size / 8u, cnt;
	int r;
	for (i = 0; i < total; i += cnt) {
		cnt = hdi_min64(per, total - i);
		for (k = 0; k < cnt; k++)
			hdi_st_be64(q->scratch + k * 8u,
				    i + k < krb ? (n0 + i + k) << cb : 0);
		r = hdi_qc_pwrite(q, at + i * 8u, q->scratch, (size_t)(cnt * 8u));
		if (r < 0)
			return r;
	}
	return HDI_OK;
}

int hdi_qc_ck_rebuild(struct ck *c)
{
	struct qcow2 *q = c->q;
	uint32_t cb = q->cluster_bits;
	uint64_t n0, krb, krt, span, w0, fc, last;
	uint8_t h[12];
	int r;
	fc = (q->file_size >> cb) + ((q->file_size & (q->cluster_size - 1u)) != 0);
	n0 = hdi_max64(fc, c->imrt_size);
	r = rebuild_size(q, n0, &krb, &krt);
	if (r < 0)
		return r;
	r = hdi_qc_overlap(q, QC_OL_ALL, n0 << cb, (krb + krt) << cb);
	if (r != 0)
		return r < 0 ? r : hdi_qc_err(q, HDI_ECORRUPT,
					     "metadata points past the end of the image");
	/* grown once to whole clusters: the writes below need not be granular */
	r = hdi_bdev_ensure_size(q->file, (n0 + krb + krt) << cb);
	if (r < 0)
		return r;
	q->file_size = hdi_max64(q->file_size, (n0 + krb + krt) << cb);
	/* the counts of round one, plus the new structure itself */
	c->new0 = n0;
	c->new1 = n0 + krb + krt;
	c->fix = 0;
	c->count = false;
	c->first = false;
	c->file_len = q->file_size;   /* what we append is not walked */
	span = krb << q->rb_bits;
	last = hdi_max64(c->imrt_size, c->new1);
	for (w0 = 0, r = HDI_OK; r == HDI_OK && w0 < span; w0 += c->wcap) {
		hdi_qc_ck_window(c, w0);
		if (w0 < last)   /* past it every count is zero */
			r = hdi_qc_ck_calculate(c);
		if (r == HDI_OK)
			r = write_window(c, n0, krb);
	}
	c->new0 = c->new1 = 0;
	if (r == HDI_OK)
		r = write_reftable(q, n0, krb, krt);
	if (r == HDI_OK)
		r = hdi_bdev_flush(q->file);
	if (r < 0)
		return r;
	/* one sector write switches the image to the new structure */
	hdi_st_be64(h, (n0 + krb) << cb);
	hdi_st_be32(h + 8, (uint32_t)krt);
	r = hdi_qc_pwrite(q, HDR_RT_OFFSET, h, sizeof h);
	if (r == HDI_OK)
		r = hdi_bdev_flush(q->file);
	if (r < 0)
		return r;
	r = hdi_qc_cache_write(&q->rc);
	if (r == HDI_OK)
		r = hdi_qc_cache_invalidate(&q->rc);
	q->rt_offset = (n0 + krb) << cb;
	q->rt_clusters = (uint32_t)krt;
	q->rt_entries = krt << (cb - 3u);
	c->rt_memo_ok = false;
	return r;
}

/* ---- header bits --------------------------------------------------------------- */
int hdi_qc_ck_mark_clean(struct qcow2 *q)
{
	uint64_t bits = HDI_QCOW2_INCOMPAT_DIRTY | HDI_QCOW2_INCOMPAT_CORRUPT;
	uint8_t b[8];
	int r;
	if (q->version < 3u || !(q->incompat & bits))
		return HDI_OK;
	/* every refcount reaches the disk before the bit goes */
	r = hdi_qc_cache_write(&q->rc);
	if (r == HDI_OK)
		r = hdi_qc_cache_write(&q->l2c);
	if (r == HDI_OK)
		r = hdi_bdev_flush(q->file);
	if (r < 0)
		return r;
	hdi_st_be64(b, q->incompat & ~bits);
	r = hdi_qc_pwrite(q, HDR_INCOMPAT, b, 8);
	if (r == HDI_OK)
		r = hdi_bdev_flush(q->file);
	if (r == HDI_OK)
		q->incompat &= ~bits;
	return r;
}

#endif /* !HDI_CONFIG_READONLY */
