/* core/qcow2_write_compressed.c: compressed writes of whole clusters (QEMU's
 * compressed write): the bytes packed into shared host clusters, one
 * reference per host cluster touched, the compressed L2 descriptor, and the
 * fallback to a normal cluster when compression saves nothing. */
#include "qcow2_wr.h"

#if !HDI_CONFIG_READONLY

static uint64_t rc_max(const struct qcow2 *q)
{
	return q->refcount_bits == 64u ? UINT64_MAX
				       : (1ull << q->refcount_bits) - 1u;
}

/* Bits 0..shift-1 of a compressed descriptor hold the host offset. */
static uint32_t csize_shift(const struct qcow2 *q)
{
	return 62u - (q->cluster_bits - 8u);
}

/* size bytes (less than a cluster) of host space: right after the last
 * compressed cluster when they fit, or continuing into the next cluster
 * when the allocator hands out the one that follows, else at the start of
 * a new cluster. Every host cluster the bytes touch gets one reference
 * (QEMU's qcow2_alloc_bytes, so qemu-img check counts the same). */
static int alloc_bytes(struct qcow2 *q, uint64_t size, uint64_t *out)
{
	struct qc_wr *w = hdi_qcw(q);
	uint64_t off = w->free_byte, rc = 0, nc = 0, got;
	bool fresh, shared;
	int r;
	if (off) {
		r = hdi_qc_refcount_get(q, off >> q->cluster_bits, &rc);
		if (r < 0)
			return r;
		if (rc == 0 || rc >= rc_max(q))
			off = 0;
	}
	shared = off != 0;
	if (!off || q->cluster_size - hdi_qc_offset_in_cluster(q, off) < size) {
		r = hdi_qcw_alloc(q, 1, true, &nc, &got, &fresh);
		if (r < 0)
			return r;
		if (!off || hdi_qc_cluster_start(q, off) + q->cluster_size != nc) {
			off = nc;         /* its reference came with it */
			shared = false;
		}
	}
	if ((off + size - 1u) >> csize_shift(q))
		return hdi_qc_err(q, HDI_ENOSPC,
				  "compressed cluster beyond the descriptor's reach");
	if (shared) {
		r = hdi_qcw_ref(q, off >> q->cluster_bits);
		if (r < 0)
			return r;
	}
	w->free_byte = off + size;
	if (!hdi_qc_offset_in_cluster(q, w->free_byte))
		w->free_byte = 0;
	*out = off;
	return HDI_OK;
}

/* Stores clen compressed bytes as the cluster at virtual offset off. The
 * bytes are written before the L2 entry names them, and the refcounts
 * reach the disk first (the allocator's cache dependency). */
static int store(struct qcow2 *q, uint64_t off, const void *comp, size_t clen)
{
	uint64_t l2, e, bm, host = 0, nsec, idx;
	int r = hdi_qcw_l2_for_write(q, off, &l2);
	if (r < 0)
		return r;
	idx = (off >> q->cluster_bits) & ((1ull << q->l2_bits) - 1u);
	r = hdi_qc_l2_entry(q, l2, idx, &e, &bm);
	if (r == HDI_OK)
		r = alloc_bytes(q, clen, &host);
	if (r == HDI_OK)
		r = hdi_qcw_check(q, QW_OL_DATA, host, clen);
	if (r == HDI_OK)
		r = hdi_qc_pwrite(q, host, comp, clen);
	if (r < 0)
		return r;
	/* the count of 512-byte sectors touched, minus one */
	nsec = ((host + clen - 1u) >> 9) - (host >> 9);
	hdi_qc_read_invalidate(q);
	/* compressed clusters never carry COPIED; with extended L2 the
	 * bitmap is zero */
	r = hdi_qcw_set_l2(q, l2, idx,
			   host | QC_OFLAG_COMPRESSED | (nsec << csize_shift(q)), 0);
	return r < 0 ? r : hdi_qcw_release(q, e);
}

/* One whole cluster: off aligned, len the cluster or the disk's tail. */
static int check_cluster(struct qcow2 *q, uint64_t off, size_t len)
{
	if (hdi_qc_offset_in_cluster(q, off) || off >= q->size || !len ||
	    len > q->cluster_size ||
	    (len < q->cluster_size && len != q->size - off))
		return hdi_qc_err(q, HDI_EINVAL,
				  "compressed writes take one whole, aligned cluster");
	return HDI_OK;
}

int hdi_qcow2_write_precompressed(hdi_qcow2_t *h, uint64_t off,
				  const void *buf, size_t len,
				  const void *comp, size_t comp_len)
{
	struct qcow2 *q = hdi_qc(h);
	int r = hdi_qcw_begin(q);
	if (r == HDI_OK)
		r = check_cluster(q, off, len);
	if (r == HDI_OK && (!buf || (comp_len && !comp)))
		r = HDI_EINVAL;
	if (r < 0)
		return r;
	/* compression that saves nothing: a normal cluster, as QEMU */
	if (!comp_len || comp_len >= q->cluster_size)
		return hdi_qcow2_write(h, off, buf, len);
	return store(q, off, comp, comp_len);
}

int hdi_qcow2_write_compressed(hdi_qcow2_t *h, uint64_t off, const void *buf,
			       size_t len)
{
	struct qcow2 *q = hdi_qc(h);
	const void *src = buf;
	size_t clen = 0;
	int r = hdi_qcw_begin(q);
	if (r == HDI_OK)
		r = check_cluster(q, off, len);
	if (r == HDI_OK && !buf)
		r = HDI_EINVAL;
	if (r < 0)
		return r;
	if (!q->compress)
		return hdi_qc_err(q, HDI_EUNSUPP, "no compressor given for compressed writes");
	if (!q->z_out)
		return hdi_qc_err(q, HDI_ENOMEM, "workspace too small for compressed "
				  "clusters (see HDI_QCOW2_WORKSPACE_COMPRESSED)");
	/* z_out and z_in (the read path's buffers) hold the padded input
	 * and the output */
	hdi_qc_read_invalidate(q);
	if (len < q->cluster_size) {
		memcpy(q->z_out, buf, len);
		memset(q->z_out + len, 0, q->cluster_size - len);
		src = q->z_out;
	}
	r = q->compress(q->compress_ctx, q->compression_type, q->z_in,
			q->cluster_size - 1u, &clen, src, q->cluster_size);
	if (r == HDI_ENOSPC || (r == HDI_OK && clen >= q->cluster_size))
		clen = 0;
	else if (r < 0)
		return hdi_qc_err(q, r, "the compressor failed");
	return hdi_qcow2_write_precompressed(h, off, buf, len, q->z_in, clen);
}

#endif /* !HDI_CONFIG_READONLY */
