/* core/qcow2_table.c: tables for writes, on top of the allocator: L2
 * tables made private to the active L1 (allocated or copied), L1 growth,
 * and releasing the host space an L2 entry held. */
#include "qcow2_wr.h"

#if !HDI_CONFIG_READONLY

int hdi_qcw_release(struct qcow2 *q, uint64_t e)
{
	uint64_t host, bytes;
	if (e & QC_OFLAG_COMPRESSED) {
		hdi_qc_compressed_desc(q, e, &host, &bytes);
		return hdi_qcw_free_later(q, host, bytes);
	}
	host = e & QC_L2E_OFFSET_MASK;
	return host ? hdi_qcw_free_later(q, host, q->cluster_size) : HDI_OK;
}

/* Copies a shared L2 table to new, slice by slice from the cache (its
 * newest contents), straight to the file. */
static int copy_l2(struct qcow2 *q, uint64_t old, uint64_t new_off)
{
	uint32_t ss = q->l2c.slice_size, o;
	for (o = 0; o < q->cluster_size; o += ss) {
		void *s;
		int r = hdi_qc_cache_get(&q->l2c, old + o, QC_KIND_L2, &s);
		if (r == HDI_OK)
			r = hdi_qc_pwrite(q, new_off + o, s, ss);
		hdi_qc_cache_put(&q->l2c, &s);
		if (r < 0)
			return r;
	}
	return HDI_OK;
}

int hdi_qcw_l2_for_write(struct qcow2 *q, uint64_t voff, uint64_t *l2_off)
{
	uint64_t l1i = voff >> hdi_qc_l1_shift(q), e, old, rc, n, got;
	bool fresh;
	int r;
	if (l1i >= q->active.size)
		return hdi_qc_err(q, HDI_ECORRUPT, "L1 table smaller than the disk");
	r = hdi_qc_l1_entry(q, &q->active, l1i, &e);
	if (r == HDI_OK)
		r = hdi_qc_l2_offset(q, e, &old);
	if (r < 0)
		return r;
	if (old && (e & QC_OFLAG_COPIED)) {
		*l2_off = old;
		return HDI_OK;
	}
	if (old) {
		r = hdi_qc_refcount_get(q, old >> q->cluster_bits, &rc);
		if (r < 0)
			return r;
		if (rc == 0)
			return hdi_qcw_corrupt(q, "L2 table in use has refcount 0");
		if (rc == 1) {   /* only COPIED was missing */
			*l2_off = old;
			return hdi_qcw_set_l1(q, l1i, old | QC_OFLAG_COPIED);
		}
	}
	r = hdi_qcw_alloc(q, 1, true, &n, &got, &fresh);
	if (r == HDI_OK && old)
		r = copy_l2(q, old, n);
	else if (r == HDI_OK && !fresh)
		r = hdi_qcw_zero_fill(q, n, q->cluster_size);
	if (r < 0)
		return r;
	/* the table's contents are durable before the L1 entry names it */
	hdi_qc_cache_depends_on_flush(&q->l2c);
	r = hdi_qcw_set_l1(q, l1i, n | QC_OFLAG_COPIED);
	if (r == HDI_OK && old)
		r = hdi_qcw_free_later(q, old, q->cluster_size);
	*l2_off = n;
	return r;
}

/* ---- L1 growth ------------------------------------------------------------ */
int hdi_qcw_l1_grow(struct qcow2 *q, uint64_t entries)
{
	uint64_t old_off = q->active.offset, old_bytes = (uint64_t)q->active.size * 8u;
	uint64_t bytes = entries * 8u, ncl, n, got, old_cl, done;
	size_t k = 0;
	uint8_t h[12];
	bool fresh;
	int r;
	if (entries <= q->active.size)
		return HDI_OK;
	if (bytes > QC_MAX_L1_BYTES)
		return hdi_qc_err(q, HDI_EINVAL, "image too large for its cluster size (L1 over 32 MiB)");
	ncl = (bytes + q->cluster_size - 1u) >> q->cluster_bits;
	r = hdi_qcw_alloc(q, ncl, true, &n, &got, &fresh);
	/* the new clusters' refcounts, and the old table's newest entries,
	 * are on disk before the copy (the header names the copy directly,
	 * not through the L2 cache, so its dependency does not help) */
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->rc);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->l2c);
	if (r == HDI_OK && !fresh)
		r = hdi_qcw_zero_fill(q, n, ncl << q->cluster_bits);
	for (done = 0; r == HDI_OK && done < old_bytes; done += k) {
		k = (size_t)hdi_min64(old_bytes - done, q->scratch_size);
		r = hdi_qc_pread(q, old_off + done, q->scratch, k);
		if (r == HDI_OK)
			r = hdi_qc_pwrite(q, n + done, q->scratch, k);
	}
	if (r == HDI_OK)
		r = hdi_bdev_flush(q->file);
	if (r < 0)
		return r;
	hdi_st_be32(h, (uint32_t)entries);
	hdi_st_be64(h + 4, n);
	r = hdi_qcw_header_write(q, 36, h, 12);
	if (r < 0)
		return r;
	old_cl = (old_bytes + q->cluster_size - 1u) >> q->cluster_bits;
	hdi_qc_cache_discard(&q->l2c, old_off, old_cl << q->cluster_bits);
	q->l1_offset = n;
	q->l1_size = (uint32_t)entries;
	q->active.offset = n;
	q->active.size = (uint32_t)entries;
	if (q->view_snapshot == UINT32_MAX)
		q->view = q->active;
	return old_bytes ? hdi_qcw_free_now(q, old_off, old_cl << q->cluster_bits)
			 : HDI_OK;
}

#endif /* !HDI_CONFIG_READONLY */
