/* core/qcow2_bitmap.c: the persistent-bitmap directory (bitmaps header
 * extension), listed read-only for info; bitmap contents are not read. */
#include "qcow2_int.h"

#define BM_ENTRY_HDR      24u
#define BM_MAX_TABLE      0x8000000u   /* QEMU's BME_MAX_TABLE_SIZE */
#define BM_MIN_GRAN_BITS  9u
#define BM_MAX_GRAN_BITS  31u
#define BM_MAX_NAME       1023u
#define BM_KNOWN_FLAGS    0x7u
#define BM_TYPE_DIRTY     1u

struct bm_hdr {
	uint8_t b[BM_ENTRY_HDR];
	uint32_t extra, name_len, len;
};

static int read_entry(struct qcow2 *q, uint64_t rel, struct bm_hdr *h)
{
	uint64_t end;
	int r;
	if (rel + BM_ENTRY_HDR > q->bitmap_dir_size)
		return hdi_qc_err(q, HDI_ECORRUPT, "bitmap directory truncated");
	r = hdi_qc_pread(q, q->bitmap_dir_offset + rel, h->b, BM_ENTRY_HDR);
	if (r < 0)
		return r;
	h->name_len = hdi_ld_be16(h->b + 18);
	h->extra = hdi_ld_be32(h->b + 20);
	end = rel + BM_ENTRY_HDR + (uint64_t)h->extra + h->name_len;
	if (h->extra > q->bitmap_dir_size || end > q->bitmap_dir_size)
		return hdi_qc_err(q, HDI_ECORRUPT, "bitmap directory entry too large");
	h->len = (uint32_t)((BM_ENTRY_HDR + (uint64_t)h->extra + h->name_len + 7u) & ~7ull);
	return HDI_OK;
}

/* QEMU's check_dir_entry, less the size cross-checks. */
static int check_entry(struct qcow2 *q, const struct bm_hdr *h)
{
	uint64_t toff = hdi_ld_be64(h->b);
	uint32_t tsize = hdi_ld_be32(h->b + 8), flags = hdi_ld_be32(h->b + 12);
	if (!tsize || !toff || hdi_qc_offset_in_cluster(q, toff) ||
	    tsize > BM_MAX_TABLE || h->b[17] > BM_MAX_GRAN_BITS ||
	    h->b[17] < BM_MIN_GRAN_BITS || (flags & ~BM_KNOWN_FLAGS) ||
	    h->name_len > BM_MAX_NAME || h->b[16] != BM_TYPE_DIRTY)
		return hdi_qc_err(q, HDI_ECORRUPT, "invalid bitmap directory entry");
	return HDI_OK;
}

int hdi_qcow2_bitmap_get(hdi_qcow2_t *hq, uint32_t index,
			 struct hdi_qcow2_bitmap *out)
{
	struct qcow2 *q = hdi_qc(hq);
	struct bm_hdr h;
	uint64_t rel = 0;
	uint32_t i;
	size_t n;
	int r;
	if (!q || q->state_magic != QC_STATE_MAGIC || !out)
		return HDI_EINVAL;
	memset(out, 0, sizeof(*out));
	if (!q->has_bitmaps_ext || index >= q->nb_bitmaps)
		return HDI_ENOENT;
	for (i = 0;; i++) {
		r = read_entry(q, rel, &h);
		if (r == HDI_OK)
			r = check_entry(q, &h);
		if (r < 0)
			return r;
		if (i == index)
			break;
		rel += h.len;
	}
	out->table_offset = hdi_ld_be64(h.b);
	out->table_size = hdi_ld_be32(h.b + 8);
	out->flags = hdi_ld_be32(h.b + 12);
	out->type = h.b[16];
	out->granularity_bits = h.b[17];
	n = hdi_minsz(h.name_len, sizeof out->name - 1u);
	r = hdi_qc_pread(q, q->bitmap_dir_offset + rel + BM_ENTRY_HDR + h.extra,
			 out->name, n);
	out->name[r < 0 ? 0 : n] = 0;
	return r;
}
