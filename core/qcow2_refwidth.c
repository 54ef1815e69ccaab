/* core/qcow2_refwidth.c: changing the refcount width (amend refcount_bits,
 * QEMU's qcow2_change_refcount_order): a new refcount table and blocks of
 * the new width are placed in clusters the old structure allocates, filled
 * from the old counts and flushed; one header write switches to them; the
 * old table and blocks are then freed in the new structure. A cut before
 * the switch leaks the new area, after it the old one. */
#include "qcow2_hdr.h"

#if !HDI_CONFIG_READONLY

struct rw_plan {
	uint32_t order, rbb;     /* new refcount order, log2(entries per block) */
	uint64_t nb, tc;         /* blocks, table clusters */
	uint64_t area;           /* byte offset: nb blocks, then the table */
};

static uint64_t div_up(uint64_t a, uint32_t shift)
{
	return (a + (1ull << shift) - 1u) >> shift;
}

/* Blocks and table big enough to count the file plus themselves. */
static void plan_size(const struct qcow2 *q, uint64_t clusters, struct rw_plan *p)
{
	uint64_t nb = 0, tc = 0, nb2, tc2;
	for (;;) {
		nb2 = div_up(clusters + nb + tc, p->rbb);
		tc2 = div_up(nb2 * 8u, q->cluster_bits);
		if (nb2 == nb && tc2 == tc)
			break;
		nb = nb2;
		tc = tc2;
	}
	p->nb = nb;
	p->tc = tc;
}

static void st_count(uint8_t *p, uint32_t order, uint64_t i, uint64_t v)
{
	uint32_t bits = 1u << order, sh;
	if (bits < 8u) {
		sh = (uint32_t)((i << order) & 7u);
		p[(i << order) >> 3] |= (uint8_t)(v << sh);
	} else if (bits == 8u) {
		p[i] = (uint8_t)v;
	} else if (bits == 16u) {
		hdi_st_be16(p + i * 2u, (uint16_t)v);
	} else if (bits == 32u) {
		hdi_st_be32(p + i * 4u, (uint32_t)v);
	} else {
		hdi_st_be64(p + i * 8u, v);
	}
}

/* Every count fits the new width. */
static int check_fit(struct qcow2 *q, uint32_t bits)
{
	uint64_t ci, v, n = div_up(q->file_size, q->cluster_bits);
	uint64_t max = bits == 64u ? UINT64_MAX : (1ull << bits) - 1u;
	int r;
	for (ci = 0; ci < n; ci++) {
		r = hdi_qc_refcount_get(q, ci, &v);
		if (r < 0)
			return r;
		if (v > max)
			return hdi_qc_err_num(q, HDI_EINVAL,
					      "cannot decrease the refcount width: a cluster has refcount ",
					      v, "");
	}
	return HDI_OK;
}

/* Writes the new blocks, counts from the old structure, a scratch-full at
 * a time. */
static int fill_blocks(struct qcow2 *q, const struct rw_plan *p)
{
	uint64_t bytes = p->nb << q->cluster_bits, done, ci = 0, k, v;
	int r = HDI_OK;
	for (done = 0; r == HDI_OK && done < bytes; done += q->scratch_size) {
		size_t n = (size_t)hdi_min64(bytes - done, q->scratch_size);
		uint64_t per = ((uint64_t)n << 3) >> p->order;
		memset(q->scratch, 0, n);
		for (k = 0; r == HDI_OK && k < per; k++, ci++) {
			r = hdi_qc_refcount_get(q, ci, &v);
			if (r == HDI_OK && v)
				st_count(q->scratch, p->order, k, v);
		}
		if (r == HDI_OK)
			r = hdi_qc_pwrite(q, p->area + done, q->scratch, n);
	}
	return r;
}

static int fill_table(struct qcow2 *q, const struct rw_plan *p)
{
	uint64_t bytes = p->tc << q->cluster_bits, done, j = 0, k;
	uint64_t at = p->area + (p->nb << q->cluster_bits);
	int r = HDI_OK;
	for (done = 0; r == HDI_OK && done < bytes; done += q->scratch_size) {
		size_t n = (size_t)hdi_min64(bytes - done, q->scratch_size);
		memset(q->scratch, 0, n);
		for (k = 0; k < n >> 3; k++, j++)
			if (j < p->nb)
				hdi_st_be64(q->scratch + k * 8u, p->area + (j << q->cluster_bits));
		r = hdi_qc_pwrite(q, at + done, q->scratch, n);
	}
	return r;
}

static int fill(struct qcow2 *q, const struct rw_plan *p)
{
	int r = fill_blocks(q, p);
	if (r == HDI_OK)
		r = fill_table(q, p);
	return r == HDI_OK ? hdi_bdev_flush(q->file) : r;
}

/* The header names the new table and width (one write, one sector). */
static int switch_header(struct qcow2 *q, const struct rw_plan *p)
{
	uint8_t b[52];
	hdi_st_be64(b, p->area + (p->nb << q->cluster_bits));
	hdi_st_be32(b + 8, (uint32_t)p->tc);
	hdi_st_be32(b + 12, q->nb_snapshots);
	hdi_st_be64(b + 16, q->snapshots_offset);
	hdi_st_be64(b + 24, q->incompat);
	hdi_st_be64(b + 32, q->compat);
	hdi_st_be64(b + 40, q->autoclear);
	hdi_st_be32(b + 48, p->order);
	return hdi_qcw_header_write(q, 48, b, sizeof b);
}

/* Frees the old table and its blocks, counted now in the new structure. */
static int free_old(struct qcow2 *q, uint64_t rt, uint32_t rt_cl, uint64_t entries)
{
	uint64_t i, rb;
	uint8_t e[8];
	int r = HDI_OK;
	for (i = 0; r == HDI_OK && i < entries; i++) {
		r = hdi_qc_pread(q, rt + i * 8u, e, 8);
		rb = hdi_ld_be64(e) & QC_RTE_OFFSET_MASK;
		if (r == HDI_OK && rb)
			r = hdi_qcw_free_now(q, rb, q->cluster_size);
	}
	if (r == HDI_OK)
		r = hdi_qcw_free_now(q, rt, (uint64_t)rt_cl << q->cluster_bits);
	return r == HDI_OK ? hdi_qc_cache_flush(&q->rc) : r;
}

static int place(struct qcow2 *q, struct rw_plan *p)
{
	uint64_t got, extra = 0;
	bool fresh;
	int tries, r;
	for (tries = 0; tries < 4; tries++, extra += 64u) {
		plan_size(q, div_up(q->file_size, q->cluster_bits) + extra, p);
		if ((p->tc << q->cluster_bits) > QC_MAX_REFTABLE_BYTES)
			return hdi_qc_err(q, HDI_ENOSPC, "refcount table would exceed 8 MiB");
		r = hdi_qcw_alloc(q, p->nb + p->tc, true, &p->area, &got, &fresh);
		if (r < 0)
			return r;
		/* the allocation may have grown the file (and the old structure) */
		if (div_up(q->file_size, q->cluster_bits) <= (p->nb << p->rbb))
			return hdi_qc_cache_flush(&q->rc);
		r = hdi_qcw_free_now(q, p->area, (p->nb + p->tc) << q->cluster_bits);
		if (r < 0)
			return r;
	}
	return hdi_qc_err(q, HDI_ENOSPC, "cannot place the new refcount structure");
}

int hdi_qcw_refwidth(struct qcow2 *q, uint32_t bits)
{
	struct rw_plan p;
	uint64_t old_rt = q->rt_offset, old_n = q->rt_entries;
	uint32_t old_cl = q->rt_clusters;
	int r;
	for (p.order = 0; (1u << p.order) < bits; p.order++)
		;
	p.rbb = q->cluster_bits + 3u - p.order;
	r = hdi_qcw_apply_frees(q);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->l2c);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->rc);
	if (r == HDI_OK)
		r = check_fit(q, bits);
	if (r == HDI_OK)
		r = place(q, &p);
	if (r == HDI_OK)
		r = fill(q, &p);
	if (r == HDI_OK)
		r = switch_header(q, &p);
	if (r == HDI_OK)
		r = hdi_qc_cache_invalidate(&q->rc);
	if (r < 0)
		return r;
	q->rt_offset = p.area + (p.nb << q->cluster_bits);
	q->rt_clusters = (uint32_t)p.tc;
	q->rt_entries = p.tc << (q->cluster_bits - 3u);
	q->refcount_order = p.order;
	q->refcount_bits = bits;
	q->rb_bits = p.rbb;
	hdi_qcw(q)->free_hint = 0;
	r = hdi_qcw_scan_tables(q);
	return r == HDI_OK ? free_old(q, old_rt, old_cl, old_n) : r;
}

#endif /* !HDI_CONFIG_READONLY */
