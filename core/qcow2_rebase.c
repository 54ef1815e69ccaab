/* core/qcow2_rebase.c: qemu-img rebase: the ranges the image does not
 * allocate itself are compared between the old and the new backing chain
 * and, where they differ, the old contents are written into the image
 * (safe mode); then the header names the new backing file and format.
 * Also the header-only change (unsafe mode, amend backing_file). */
#include "qcow2_hdr.h"

#if !HDI_CONFIG_READONLY

#define REBASE_CHUNK (256u << 10)

/* [off, off+n) of the new backing file, zeros past its end. */
static int read_new(struct hdi_bdev *nb, uint64_t nsize, uint64_t off,
		    uint8_t *buf, size_t n)
{
	size_t k = off >= nsize ? 0 : (size_t)hdi_min64(n, nsize - off);
	memset(buf + k, 0, n - k);
	return k ? hdi_bdev_read(nb, off, buf, k) : HDI_OK;
}

/* Writes the old contents over every sector where they differ. */
static int keep_diff(hdi_qcow2_t *h, uint64_t off, const uint8_t *old,
		     const uint8_t *nw, size_t n)
{
	size_t i = 0, j;
	while (i < n) {
		if (!memcmp(old + i, nw + i, 512)) {
			i += 512;
			continue;
		}
		for (j = i + 512; j < n && memcmp(old + j, nw + j, 512); j += 512)
			;
		{
			int r = hdi_qcow2_write(h, off + i, old + i, j - i);
			if (r < 0)
				return r;
		}
		i = j;
	}
	return HDI_OK;
}

static int compare_range(hdi_qcow2_t *h, struct hdi_bdev *nb, uint64_t nsize,
			 uint8_t *a, uint8_t *b, size_t cap, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = (size_t)hdi_min64(len, cap);
		int r = hdi_qcow2_read(h, off, a, n);
		if (r == HDI_OK)
			r = nb ? read_new(nb, nsize, off, b, n) : (memset(b, 0, n), HDI_OK);
		if (r == HDI_OK)
			r = keep_diff(h, off, a, b, n);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return HDI_OK;
}

/* Safe mode: everything read through the old chain stays as it reads. */
static int copy_differences(hdi_qcow2_t *h, struct hdi_bdev *nb)
{
	struct qcow2 *q = hdi_qc(h);
	struct hdi_qcow2_extent e;
	uint64_t off, nsize = 0;
	void *area;
	size_t got = 0;
	int r = nb ? hdi_bdev_size(nb, &nsize) : HDI_OK, r2;
	if (r == HDI_OK)
		r = hdi_qc_ws_borrow(q, 2u * REBASE_CHUNK, &area, &got);
	if (r == HDI_OK && got < 2048u)
		r = hdi_qc_err(q, HDI_ENOMEM, "workspace too small to rebase");
	got = (got / 2u) & ~(size_t)511u;
	for (off = 0; r == HDI_OK && off < q->active.disk_size; off += e.length) {
		r = hdi_qcow2_map(h, off, &e);
		if (r == HDI_OK && (!(e.flags & HDI_QCOW2_MAP_ALLOCATED) || e.depth > 0))
			r = compare_range(h, nb, nsize, area, (uint8_t *)area + got, got,
					  off, e.length);
	}
	r2 = hdi_qc_ws_return(q);
	if (r == HDI_OK)
		r = r2;
	return r == HDI_OK ? hdi_qcow2_flush(h) : r;
}

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s && s[n])
		n++;
	return n;
}

int hdi_qcow2_rebase(hdi_qcow2_t *h, struct hdi_bdev *new_base, const char *name,
		     const char *fmt, uint32_t flags)
{
	struct qcow2 *q = hdi_qc(h);
	uint64_t nsize = 0;
	uint32_t saved = q->backing_name_size;
	int r;
	if (!q || q->state_magic != QC_STATE_MAGIC)
		return HDI_EINVAL;
	/* unsafe: the old backing file may be gone (opened without it) and
	 * nothing is read through it; only the header changes */
	if ((flags & HDI_QCOW2_REBASE_UNSAFE) && !q->backing)
		q->backing_name_size = 0;
	r = hdi_qcw_begin(q);
	q->backing_name_size = saved;
	if (r < 0)
		return r;
	if (slen(name) && !new_base && !(flags & HDI_QCOW2_REBASE_UNSAFE))
		return hdi_qc_err(q, HDI_EINVAL, "the new backing file must be open for a safe rebase");
	if (new_base && new_base->granule > 512u && new_base->granule > q->file->granule)
		return hdi_qc_err(q, HDI_EUNSUPP, "new backing file has too large a granule");
	if (!(flags & HDI_QCOW2_REBASE_UNSAFE))
		r = copy_differences(h, slen(name) ? new_base : NULL);
	if (r == HDI_OK) {
		struct qc_hdr_edit e = { q->version, q->compat, true, name, fmt };
		r = hdi_qch_rewrite(q, &e);
	}
	if (r == HDI_OK && new_base && slen(name))
		r = hdi_bdev_size(new_base, &nsize);
	if (r < 0)
		return r;
	q->backing = slen(name) ? new_base : NULL;
	q->backing_size = nsize;
	hdi_qc_read_invalidate(q);
	return HDI_OK;
}

#endif /* !HDI_CONFIG_READONLY */
