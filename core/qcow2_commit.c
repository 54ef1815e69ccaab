/* core/qcow2_commit.c: qemu-img commit: what the images above a base in
 * the backing chain allocate is copied into the base, which is flushed;
 * then the top image is emptied (unless asked not to). */
#include "qcow2_wr.h"

#if !HDI_CONFIG_READONLY

#define COPY_CHUNK (1u << 20)

/* A buffer for bulk copies: borrowed from the workspace, else scratch. */
struct cbuf { uint8_t *p; size_t n; bool borrowed; };

static int cbuf_get(struct qcow2 *q, struct cbuf *b)
{
	void *a;
	size_t got;
	int r = hdi_qc_ws_borrow(q, COPY_CHUNK, &a, &got);
	b->borrowed = r == HDI_OK && got >= q->scratch_size;
	if (r == HDI_OK && !b->borrowed)
		r = hdi_qc_ws_return(q);
	if (r < 0)
		return r;
	b->p = b->borrowed ? a : q->scratch;
	b->n = b->borrowed ? got & ~(size_t)511u : q->scratch_size;
	return HDI_OK;
}

static int cbuf_put(struct qcow2 *q, struct cbuf *b)
{
	return b->borrowed ? hdi_qc_ws_return(q) : HDI_OK;
}

static int copy_out(hdi_qcow2_t *h, struct hdi_bdev *base, const struct cbuf *b,
		    uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = (size_t)hdi_min64(len, b->n);
		int r = hdi_qcow2_read(h, off, b->p, n);
		if (r == HDI_OK)
			r = hdi_bdev_write(base, off, b->p, n);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return HDI_OK;
}

/* Copies every extent allocated above depth base_depth. */
static int copy_allocated(hdi_qcow2_t *h, struct hdi_bdev *base, unsigned base_depth)
{
	struct qcow2 *q = hdi_qc(h);
	struct hdi_qcow2_extent e;
	struct cbuf b = { NULL, 0, false };
	uint64_t off;
	int r = cbuf_get(q, &b), r2;
	for (off = 0; r == HDI_OK && off < q->active.disk_size; off += e.length) {
		r = hdi_qcow2_map(h, off, &e);
		if (r == HDI_OK && (e.flags & HDI_QCOW2_MAP_ALLOCATED) && e.depth < base_depth)
			r = copy_out(h, base, &b, off, e.length);
	}
	r2 = cbuf_put(q, &b);
	return r < 0 ? r : r2;
}

/* Every cluster of the active disk dropped (QEMU's qcow2_make_empty). */
static int make_empty(struct qcow2 *q)
{
	int r = hdi_qcw_begin(q);
	if (r == HDI_OK)
		r = hdi_qcw_drop_tail(q, 0);
	if (r == HDI_OK)
		r = hdi_qcw_apply_frees(q);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->l2c);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->rc);
	return r;
}

int hdi_qcow2_commit(hdi_qcow2_t *h, struct hdi_bdev *base, unsigned base_depth,
		     uint32_t flags)
{
	struct qcow2 *q = hdi_qc(h);
	uint64_t bsize;
	int r;
	if (!q || q->state_magic != QC_STATE_MAGIC || !base || !base_depth)
		return HDI_EINVAL;
	if (!q->backing_name_size || !q->backing)
		return hdi_qc_err(q, HDI_EINVAL, "image has no backing file to commit to");
	if (q->view_snapshot != UINT32_MAX)
		return hdi_qc_err(q, HDI_EINVAL, "a snapshot view cannot be committed");
	r = hdi_bdev_size(base, &bsize);
	if (r == HDI_OK && bsize < q->active.disk_size)
		r = hdi_qc_err(q, HDI_EINVAL, "the base is smaller than the image (grow it first)");
	if (r == HDI_OK && !(flags & HDI_QCOW2_COMMIT_KEEP))
		r = hdi_qcw_begin(q);   /* writable, so emptying cannot fail late */
	if (r == HDI_OK)
		r = copy_allocated(h, base, base_depth);
	/* the base holds the data durably before the top lets go of it */
	if (r == HDI_OK)
		r = hdi_bdev_flush(base);
	if (r == HDI_OK && !(flags & HDI_QCOW2_COMMIT_KEEP))
		r = make_empty(q);
	return r;
}

#endif /* !HDI_CONFIG_READONLY */
