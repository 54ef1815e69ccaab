/* core/qcow2_resize.c: hdi_qcow2_resize: growing (L1 growth, the new
 * area reads zeros) and shrinking (refused over allocated data unless
 * asked; clusters past the new end are freed). */
#include "qcow2_wr.h"

#if !HDI_CONFIG_READONLY

static void mem_size(struct qcow2 *q, uint64_t size)
{
	q->size = size;
	q->active.disk_size = size;
	if (q->view_snapshot == UINT32_MAX)
		q->view.disk_size = size;
}

static int set_size(struct qcow2 *q, uint64_t size)
{
	uint8_t b[8];
	int r;
	hdi_st_be64(b, size);
	r = hdi_qcw_header_write(q, 24, b, 8);
	if (r < 0)
		return r;
	mem_size(q, size);
	return HDI_OK;
}

/* Is anything allocated (data, compressed, preallocated) in [off, end)? */
static int has_data(struct qcow2 *q, uint64_t off, uint64_t end, bool *yes)
{
	struct qc_run run;
	*yes = false;
	while (off < end) {
		int r = hdi_qc_lookup(q, &q->active, off, end - off, &run);
		if (r < 0)
			return r;
		if (run.type != QC_T_UNALLOC_PLAIN && run.type != QC_T_ZERO_PLAIN) {
			*yes = true;
			return HDI_OK;
		}
		off += run.len;
	}
	return HDI_OK;
}

/* The new area must read zeros before the header shows it: the old last
 * cluster may hold bytes past the old end, and a longer backing file
 * would show through. So: zero it (at the new size, in memory only),
 * make that durable, then write the size. */
static int grow(struct qcow2 *q, uint64_t size)
{
	uint64_t old = q->size, cend, zend;
	int r = hdi_qcw_l1_grow(q, hdi_qc_size_to_l1(q, size));
	if (r < 0)
		return r;
	mem_size(q, size);
	cend = hdi_min64(size, (old + q->cluster_size - 1u) &
			 ~(uint64_t)(q->cluster_size - 1u));
	r = hdi_qcw_zero_range(q, old, cend - old, false);
	if (r == HDI_OK && q->backing_name_size) {
		zend = size;
		if (q->backing && q->backing_size < zend)
			zend = q->backing_size;
		if (zend > cend)
			r = hdi_qcw_zero_range(q, cend, zend - cend, false);
	}
	if (r == HDI_OK)
		r = hdi_qcw_apply_frees(q);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->rc);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->l2c);
	if (r == HDI_OK)
		r = set_size(q, size);
	if (r < 0)
		mem_size(q, old);
	return r;
}

static int shrink(struct qcow2 *q, uint64_t size, uint32_t flags)
{
	uint64_t cut;
	bool data;
	int r = has_data(q, size, q->size, &data);
	if (r < 0)
		return r;
	if (data && !(flags & HDI_QCOW2_RESIZE_SHRINK))
		return hdi_qc_err(q, HDI_EINVAL,
				  "shrinking would drop allocated data (use --shrink)");
	cut = (size + q->cluster_size - 1u) & ~(uint64_t)(q->cluster_size - 1u);
	r = hdi_qcw_drop_tail(q, cut);
	/* the dropped space is freed before the header says the disk is
	 * smaller (either order only leaks on a crash) */
	if (r == HDI_OK)
		r = hdi_qcw_apply_frees(q);
	return r < 0 ? r : set_size(q, size);
}

int hdi_qcow2_resize(hdi_qcow2_t *h, uint64_t size, uint32_t flags)
{
	struct qcow2 *q = hdi_qc(h);
	int r = hdi_qcw_begin(q);
	if (r < 0)
		return r;
	if (size & 511u)
		return hdi_qc_err(q, HDI_EINVAL, "size must be a multiple of 512");
	if (hdi_qc_size_to_l1(q, size) > QC_MAX_L1_BYTES / 8u)
		return hdi_qc_err(q, HDI_EINVAL,
				  "image too large for its cluster size (L1 over 32 MiB)");
	if (size == q->size)
		return HDI_OK;
	r = size > q->size ? grow(q, size) : shrink(q, size, flags);
	if (r == HDI_OK)
		r = hdi_qcw_apply_frees(q);
	return r;
}

#endif /* !HDI_CONFIG_READONLY */
