/* core/qcow2_check.c: the counting half of qemu-img check for qcow2:
 * every reference to every host cluster counted as QEMU's
 * calculate_refcounts does, one window of clusters at a time in borrowed
 * workspace (qcow2_check_rounds.c drives the rounds). */
#include "qcow2_check_int.h"

#if !HDI_CONFIG_READONLY

#define L1E_RESERVED      0x7f000000000001ffull
#define L2E_STD_RESERVED  0x3f000000000001feull
#define RTE_RESERVED      0x00000000000001ffull

/* bitmaps: the limits of QEMU's qcow2-bitmap.c */
#define BM_DIR_ENTRY       24u
#define BM_MAX_TABLE       0x8000000u
#define BM_MAX_PHYS        0x20000000ull
#define BM_MIN_GRAN        9u
#define BM_MAX_GRAN        31u
#define BM_RESERVED_FLAGS  0xfffffffcu
#define BM_MAX_NAME        1023u
#define BM_TYPE_DIRTY      1u
#define BME_RESERVED       0xff000000000001feull
#define BME_OFFSET         0x00fffffffffffe00ull
#define BME_ALL_ONES       1ull

static uint64_t clusters(const struct qcow2 *q, uint64_t bytes)
{
	return (bytes >> q->cluster_bits) + ((bytes & (q->cluster_size - 1u)) != 0);
}

/* An error the walk finds in the image as a whole: counted once a round. */
static void err_once(struct ck *c)
{
	if (c->count && c->first)
		c->res->corruptions++;
}

int hdi_qc_ck_pread(struct qcow2 *q, uint64_t end, uint64_t off, void *buf,
		    size_t len)
{
	size_t n = len;
	if (off >= end)
		n = 0;
	else if (end - off < len)
		n = (size_t)(end - off);
	memset((uint8_t *)buf + n, 0, len - n);
	return n ? hdi_qc_pread(q, off, buf, n) : HDI_OK;
}

int hdi_qc_ck_l1_read(struct qcow2 *q, uint64_t end, uint64_t off, uint64_t *e)
{
	struct qc_cache *c = &q->l2c;
	uint32_t in = (uint32_t)(off & (c->slice_size - 1u));
	void *s;
	int r;
	*e = 0;
	if (off >= end)
		return HDI_OK;
	r = hdi_qc_cache_get(c, off - in, QC_KIND_L1, &s);
	if (r < 0)
		return r;
	*e = hdi_ld_be64((uint8_t *)s + in);
	hdi_qc_cache_put(c, &s);
	return HDI_OK;
}

int hdi_qc_ck_rt_entry(struct ck *c, uint64_t i, uint64_t *e)
{
	struct qcow2 *q = c->q;
	uint64_t off = q->rt_offset + i * 8u;
	uint32_t in = (uint32_t)(off & (q->rc.slice_size - 1u));
	void *s;
	int r;
	if (c->rt_memo_ok && c->rt_memo_idx == i) {
		*e = c->rt_memo;
		return HDI_OK;
	}
	r = hdi_qc_cache_get(&q->rc, off - in, QC_KIND_REFTABLE, &s);
	if (r < 0)
		return r;
	*e = hdi_ld_be64((uint8_t *)s + in);
	hdi_qc_cache_put(&q->rc, &s);
	c->rt_memo_idx = i;
	c->rt_memo = *e;
	c->rt_memo_ok = true;
	return HDI_OK;
}

/* ---- the window ---------------------------------------------------------- */
void hdi_qc_ck_window(struct ck *c, uint64_t w0)
{
	c->w0 = w0;
	memset(c->imrt, 0, (size_t)((c->wcap << c->q->refcount_order) >> 3));
}

/* One more reference to clusters [k, last], as far as they are in the
 * window; a count already at the image's maximum is an overflow. */
static void count_clusters(struct ck *c, uint64_t k, uint64_t last)
{
	struct qcow2 *q = c->q;
	uint64_t wlast = c->w0 + c->wcap - 1u, v;
	uint32_t i;
	if (k < c->w0)
		k = c->w0;
	if (last > wlast)
		last = wlast;
	for (; k <= last; k++) {
		i = (uint32_t)(k - c->w0);
		v = hdi_qc_refcount_ld(q, c->imrt, i);
		if (v == c->rc_max) {
			if (c->count)
				c->res->corruptions++;
			continue;
		}
		hdi_qc_refcount_st(q, c->imrt, i, v + 1u);
	}
}

/* QEMU's qcow2_inc_refcounts_imrt: a region may run into the last,
 * partial cluster of the file, but not a whole cluster past its end. */
static void inc(struct ck *c, uint64_t off, uint64_t size)
{
	struct qcow2 *q = c->q;
	uint64_t end, lim, last;
	if (!size)
		return;
	if (!hdi_add_ok(off, size, &end) ||
	    !hdi_add_ok(c->file_len, q->cluster_size, &lim) || end >= lim) {
		err_once(c);
		return;
	}
	last = (end - 1u) >> q->cluster_bits;
	if (last >= c->imrt_size)
		c->imrt_size = last + 1u;
	count_clusters(c, off >> q->cluster_bits, last);
}

static bool in_window(const struct ck *c, uint64_t k)
{
	return k >= c->w0 && k - c->w0 < c->wcap;
}

/* ---- L1 and L2 tables ------------------------------------------------------ */
struct l2walk {
	uint64_t l2_off;
	uint64_t next;        /* where a contiguous next cluster would be */
	bool frag, active;
};

/* QEMU's fix_l2_entry_by_zero: a preallocated zero cluster at an
 * unaligned offset becomes a plain zero cluster. Returns 0 when fixed, 1
 * when the write failed (checking goes on), < 0 to stop. */
static int fix_by_zero(struct ck *c, const struct l2walk *w, uint64_t idx,
		       uint64_t bm)
{
	struct qcow2 *q = c->q;
	uint32_t esz = q->l2_entry_bytes;
	uint64_t off = w->l2_off + idx * esz;
	uint8_t b[16];
	int r;
	if (q->subclusters > 1u) {
		bm |= bm << 32;
		hdi_st_be64(b, 0);
		hdi_st_be64(b + 8, bm & QC_SUB_ALL_ZERO);
	} else {
		hdi_st_be64(b, QC_OFLAG_ZERO);
	}
	/* the cheap checks: walking every table for each entry would make a
	 * repair of many entries quadratic */
	r = hdi_qc_overlap(q, QC_OL_CHEAP, off, esz);
	if (r != 0) {
		c->res->check_errors++;
		return r < 0 ? r : hdi_qc_err(q, HDI_ECORRUPT,
					     "L2 entry to repair overlaps other metadata");
	}
	r = hdi_qc_pwrite(q, off, b, esz);
	if (r == HDI_OK)
		r = hdi_bdev_flush(q->file);
	hdi_qc_cache_discard(&q->l2c, off, esz);
	if (r < 0) {
		c->res->check_errors++;
		return 1;
	}
	c->res->corruptions--;
	c->res->corruptions_fixed++;
	return 0;
}

static void frag_data(struct ck *c, struct l2walk *w, uint64_t off)
{
	if (!w->frag || !c->first || !c->count)
		return;
	c->res->allocated_clusters++;
	if (w->next && off != w->next)
		c->res->fragmented_clusters++;
	w->next = off + c->q->cluster_size;
}

static int l2_entry(struct ck *c, struct l2walk *w, uint64_t idx, uint64_t e,
		    uint64_t bm)
{
	struct qcow2 *q = c->q;
	enum ck_type t = hdi_qc_ck_type(q, e);
	uint64_t off, bytes;
	bool data;
	int r;
	if (t != CK_COMPRESSED && (e & L2E_STD_RESERVED))
		err_once(c);
	switch (t) {
	case CK_COMPRESSED:
		if (e & QC_OFLAG_COPIED)
			err_once(c);
		if (bm) {
			err_once(c);
			return HDI_OK;
		}
		hdi_qc_compressed_desc(q, e, &off, &bytes);
		inc(c, off, bytes);
		if (w->frag && c->first && c->count) {
			/* re-read sectors make compressed clusters fragmented */
			c->res->allocated_clusters++;
			c->res->compressed_clusters++;
			c->res->fragmented_clusters++;
		}
		return HDI_OK;
	case CK_NORMAL:
	case CK_ZERO_ALLOC:
		off = e & QC_L2E_OFFSET_MASK;
		if ((bm >> 32) & bm)
			err_once(c);
		if (hdi_qc_offset_in_cluster(q, off)) {
			err_once(c);
			data = q->subclusters > 1u ? (bm & QC_SUB_ALL_ALLOC) != 0
						   : !(e & QC_OFLAG_ZERO);
			if (!data && c->first && c->count &&
			    (c->fix & HDI_QCOW2_REPAIR_ERRORS)) {
				r = fix_by_zero(c, w, idx, bm);
				if (r <= 0)
					return r;
			}
		}
		frag_data(c, w, off);
		inc(c, off, q->cluster_size);
		return HDI_OK;
	case CK_UNALLOC:
		if (bm & QC_SUB_ALL_ALLOC)
			err_once(c);
		return HDI_OK;
	default:
		return HDI_OK;
	}
}

static int walk_l2(struct ck *c, uint64_t l2_off, bool frag, bool active)
{
	struct qcow2 *q = c->q;
	struct l2walk w;
	uint32_t esz = q->l2_entry_bytes, n = 1u << q->l2_bits;
	uint32_t per = (uint32_t)(q->scratch_size / esz), i, j, cnt;
	const uint8_t *p;
	uint64_t e, bm;
	int r;
	w.l2_off = l2_off;
	w.next = 0;
	w.frag = frag;
	w.active = active;
	for (i = 0; i < n; i += cnt) {
		cnt = n - i < per ? n - i : per;
		r = hdi_qc_ck_pread(q, c->file_len, l2_off + (uint64_t)i * esz,
				    q->scratch, (size_t)cnt * esz);
		if (r < 0) {
			c->res->check_errors++;
			return r;
		}
		for (j = 0, p = q->scratch; j < cnt; j++, p += esz) {
			e = hdi_ld_be64(p);
			bm = esz == 16u ? hdi_ld_be64(p + 8) : 0;
			if (!e && !bm)
				continue;
			r = l2_entry(c, &w, (uint64_t)i + j, e, bm);
			if (r < 0)
				return r;
		}
	}
	return HDI_OK;
}

static int walk_l1(struct ck *c, uint64_t l1_off, uint32_t l1_size, bool frag,
		   bool active)
{
	struct qcow2 *q = c->q;
	uint64_t i, e, l2;
	int r;
	if (!l1_size)
		return HDI_OK;
	inc(c, l1_off, (uint64_t)l1_size * 8u);
	if (!hdi_qc_ck_reachable(l1_off, (uint64_t)l1_size * 8u)) {
		c->res->check_errors++;
		return hdi_qc_err(q, HDI_EIO, "cannot read an L1 table");
	}
	for (i = 0; i < l1_size; i++) {
		if (l1_off + i * 8u >= c->file_len)
			break;   /* the rest reads as zeros */
		r = hdi_qc_ck_l1_read(q, c->file_len, l1_off + i * 8u, &e);
		if (r < 0) {
			c->res->check_errors++;
			return r;
		}
		if (!e)
			continue;
		if (e & L1E_RESERVED)
			err_once(c);
		l2 = e & QC_L1E_OFFSET_MASK;
		inc(c, l2, q->cluster_size);
		if (hdi_qc_offset_in_cluster(q, l2))
			err_once(c);
		r = walk_l2(c, l2, frag, active);
		if (r < 0)
			return r;
	}
	return HDI_OK;
}

static int walk_snapshots(struct ck *c)
{
	struct qcow2 *q = c->q;
	struct qc_snap_raw sn;
	uint32_t i;
	int r;
	for (i = 0; i < q->nb_snapshots; i++) {
		r = hdi_qc_snapshot_raw(q, i, &sn);
		if (r < 0) {
			c->res->check_errors++;
			return r;
		}
		if (hdi_qc_offset_in_cluster(q, sn.l1_offset) ||
		    (uint64_t)sn.l1_size > QC_MAX_L1_BYTES / 8u) {
			err_once(c);
			continue;
		}
		r = walk_l1(c, sn.l1_offset, sn.l1_size, false, false);
		if (r < 0)
			return r;
	}
	inc(c, q->snapshots_offset, c->sn_size);
	return HDI_OK;
}

/* QEMU's reading of the snapshot table: its size ends with the last
 * entry's name (no padding), and v3 entries need the 16 bytes of extra
 * data that hold the VM state and disk sizes (incomplete entries are
 * corruptions; we count them but do not rewrite the table). */
int hdi_qc_ck_snapshot_table(struct ck *c, uint64_t *incomplete)
{
	struct qcow2 *q = c->q;
	struct qc_snap_raw sn;
	uint8_t h[QC_SNAPSHOT_HDR_LEN];
	uint32_t i, extra;
	int r;
	c->sn_size = 0;
	*incomplete = 0;
	for (i = 0; i < q->nb_snapshots; i++) {
		r = hdi_qc_snapshot_raw(q, i, &sn);
		if (r == HDI_OK)
			r = hdi_qc_pread(q, sn.entry_offset, h, sizeof h);
		if (r < 0)
			return r;
		extra = hdi_ld_be32(h + 36);
		if (q->version >= 3u && extra < 16u)
			(*incomplete)++;
		c->sn_size = sn.entry_offset - q->snapshots_offset + sizeof h + extra +
			     hdi_ld_be16(h + 12) + hdi_ld_be16(h + 14);
	}
	return HDI_OK;
}

/* ---- bitmaps --------------------------------------------------------------- */
static int bitmaps_broken(struct ck *c)
{
	/* QEMU cannot load the bitmap list then, and the check fails */
	c->res->corruptions++;
	return hdi_qc_err(c->q, HDI_ECORRUPT, "bitmap directory is broken");
}

static bool bitmap_entry_ok(const struct qcow2 *q, const uint8_t *b)
{
	uint64_t toff = hdi_ld_be64(b), phys;
	uint32_t tsize = hdi_ld_be32(b + 8), flags = hdi_ld_be32(b + 12);
	uint32_t type = b[16], gran = b[17], name = hdi_ld_be16(b + 18);
	if (!tsize || !toff || hdi_qc_offset_in_cluster(q, toff) ||
	    tsize > BM_MAX_TABLE || gran > BM_MAX_GRAN || gran < BM_MIN_GRAN ||
	    (flags & BM_RESERVED_FLAGS) || name > BM_MAX_NAME || type != BM_TYPE_DIRTY)
		return false;
	phys = (uint64_t)tsize << q->cluster_bits;
	return phys <= BM_MAX_PHYS && q->size <= ((phys * 8u) << gran);
}

static int walk_bitmap_table(struct ck *c, uint64_t toff, uint32_t tsize)
{
	struct qcow2 *q = c->q;
	uint32_t per = (uint32_t)(q->scratch_size / 8u), i, j, cnt;
	uint64_t e, off;
	int r;
	inc(c, toff, (uint64_t)tsize * 8u);
	if (!hdi_qc_ck_reachable(toff, (uint64_t)tsize * 8u)) {
		c->res->corruptions++;
		return hdi_qc_err(q, HDI_ECORRUPT, "cannot read a bitmap table");
	}
	for (i = 0; i < tsize; i += cnt) {
		cnt = tsize - i < per ? tsize - i : per;
		r = hdi_qc_ck_pread(q, c->file_len, toff + (uint64_t)i * 8u,
				    q->scratch, (size_t)cnt * 8u);
		if (r < 0) {
			c->res->corruptions++;
			return r;
		}
		for (j = 0; j < cnt; j++) {
			e = hdi_ld_be64(q->scratch + (size_t)j * 8u);
			off = e & BME_OFFSET;
			if ((e & BME_RESERVED) ||
			    (off && ((e & BME_ALL_ONES) || hdi_qc_offset_in_cluster(q, off)))) {
				c->res->corruptions++;
				return hdi_qc_err(q, HDI_ECORRUPT, "bitmap table entry is invalid");
			}
			if (off)
				inc(c, off, q->cluster_size);
		}
	}
	return HDI_OK;
}

static int walk_bitmaps(struct ck *c)
{
	struct qcow2 *q = c->q;
	uint64_t off = q->bitmap_dir_offset, end, esz;
	uint32_t n = 0;
	uint8_t b[BM_DIR_ENTRY];
	int r;
	if (!q->has_bitmaps_ext || !q->nb_bitmaps)
		return HDI_OK;
	inc(c, q->bitmap_dir_offset, q->bitmap_dir_size);
	if (!q->bitmap_dir_size || q->bitmap_dir_size > QC_MAX_BITMAP_DIR_BYTES)
		return bitmaps_broken(c);
	end = off + q->bitmap_dir_size;
	while (off < end) {
		if (end - off < BM_DIR_ENTRY || ++n > q->nb_bitmaps)
			return bitmaps_broken(c);
		r = hdi_qc_ck_pread(q, c->file_len, off, b, sizeof b);
		if (r < 0) {
			c->res->check_errors++;
			return r;
		}
		esz = (BM_DIR_ENTRY + (uint64_t)hdi_ld_be16(b + 18) +
		       hdi_ld_be32(b + 20) + 7u) & ~7ull;
		if (esz > end - off || hdi_ld_be32(b + 20) || !bitmap_entry_ok(q, b))
			return bitmaps_broken(c);
		r = walk_bitmap_table(c, hdi_ld_be64(b), hdi_ld_be32(b + 8));
		if (r < 0)
			return r;
		off += esz;
	}
	return n == q->nb_bitmaps ? HDI_OK : bitmaps_broken(c);
}

/* ---- refcount blocks (QEMU's check_refblocks) ---------------------------- */
/* A refcount block past the end of the file: with repair, QEMU grows the
 * file to hold it (it then reads as zeros). Not by more than this, though:
 * a pointer that far out is garbage, and the rebuild that follows does not
 * need it (QEMU would make the file that large). */
#define OUTSIDE_GROW_MAX (1ull << 30)

static void refblock_outside(struct ck *c, uint64_t off, uint64_t cl)
{
	struct qcow2 *q = c->q;
	uint64_t end, done, n;
	int r = HDI_EINVAL;
	if (!c->first)
		return;
	if (!(c->fix & HDI_QCOW2_REPAIR_ERRORS) || !c->count) {
		err_once(c);
		return;
	}
	if (hdi_add_ok(off, q->cluster_size, &end) && (end >> q->cluster_bits) <= INT32_MAX &&
	    end - q->file_size <= OUTSIDE_GROW_MAX) {
		memset(q->scratch, 0, q->scratch_size);
		for (done = 0, r = HDI_OK; r == HDI_OK && done < q->cluster_size; done += n) {
			n = hdi_min64(q->scratch_size, q->cluster_size - done);
			r = hdi_qc_pwrite(q, off + done, q->scratch, (size_t)n);
		}
	}
	if (r < 0) {
		c->res->corruptions++;
		c->rebuild = true;
		return;
	}
	c->res->corruptions_fixed++;
	c->file_len = q->file_size;
	if (clusters(q, q->file_size) > c->imrt_size)
		c->imrt_size = clusters(q, q->file_size);
	count_clusters(c, cl, cl);
}

static int walk_refblocks(struct ck *c)
{
	struct qcow2 *q = c->q;
	uint64_t i, e, off, cl;
	int r;
	for (i = 0; i < q->rt_entries; i++) {
		r = hdi_qc_ck_rt_entry(c, i, &e);
		if (r < 0) {
			c->res->check_errors++;
			return r;
		}
		if (!e)
			continue;
		off = e & QC_RTE_OFFSET_MASK;
		cl = off >> q->cluster_bits;
		if ((e & RTE_RESERVED) || hdi_qc_offset_in_cluster(q, off)) {
			err_once(c);
			c->rebuild = true;
			continue;
		}
		if (cl >= c->imrt_size) {
			refblock_outside(c, off, cl);
			continue;
		}
		if (!off)
			continue;
		inc(c, off, q->cluster_size);
		if (in_window(c, cl) &&
		    hdi_qc_refcount_ld(q, c->imrt, (uint32_t)(cl - c->w0)) != 1u) {
			if (c->count)
				c->res->corruptions++;
			c->rebuild = true;
		}
	}
	return HDI_OK;
}

int hdi_qc_ck_calculate(struct ck *c)
{
	struct qcow2 *q = c->q;
	int r;
	inc(c, 0, q->cluster_size);   /* the header */
	r = walk_l1(c, q->active.offset, q->active.size, true, true);
	if (r == HDI_OK)
		r = walk_snapshots(c);
	if (r == HDI_OK) {
		inc(c, q->rt_offset, (uint64_t)q->rt_clusters << q->cluster_bits);
		r = walk_bitmaps(c);
	}
	if (r == HDI_OK)
		r = walk_refblocks(c);
	if (r == HDI_OK && c->new1 > c->new0)
		count_clusters(c, c->new0, c->new1 - 1u);
	return r;
}

#endif /* !HDI_CONFIG_READONLY */
