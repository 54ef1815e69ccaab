/* core/qcow2_cluster.c: qcow2 table walking: L1 -> L2 lookup with subcluster
 * types (extended L2), refcount reads, and where host offsets may point
 * (the overlap classification shared with the write path and check). */
#include "qcow2_int.h"

/* ---- overlap ------------------------------------------------------------ */
static bool ranges_meet(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	/* half-open ranges, lengths already clipped so ends cannot wrap */
	return alen && blen && a < b + blen && b < a + alen;
}

/* Clusters [start, start + n) covering bytes [off, off + len). */
static void to_clusters(const struct qcow2 *q, uint64_t off, uint64_t len,
			uint64_t *start, uint64_t *n)
{
	uint64_t end;
	if (!hdi_add_ok(off, len, &end) || end > (UINT64_MAX >> 1))
		end = UINT64_MAX >> 1;
	*start = off >> q->cluster_bits;
	*n = len ? ((end - 1u) >> q->cluster_bits) - *start + 1u : 0;
}

static bool meets(const struct qcow2 *q, uint64_t cs, uint64_t cn,
		  uint64_t off, uint64_t len)
{
	uint64_t s, n;
	to_clusters(q, off, len, &s, &n);
	return ranges_meet(cs, cn, s, n);
}

static uint32_t overlap_cheap(const struct qcow2 *q, uint32_t mask,
			      uint64_t cs, uint64_t cn)
{
	uint32_t hit = 0;
	if ((mask & QC_OL_HEADER) && ranges_meet(cs, cn, 0, 1))
		hit |= QC_OL_HEADER;
	if ((mask & QC_OL_ACTIVE_L1) &&
	    meets(q, cs, cn, q->active.offset, (uint64_t)q->active.size * 8u))
		hit |= QC_OL_ACTIVE_L1;
	if ((mask & QC_OL_REFCOUNT_TABLE) &&
	    meets(q, cs, cn, q->rt_offset, (uint64_t)q->rt_clusters << q->cluster_bits))
		hit |= QC_OL_REFCOUNT_TABLE;
	if ((mask & QC_OL_SNAPSHOT_TABLE) && q->nb_snapshots &&
	    meets(q, cs, cn, q->snapshots_offset, q->snapshots_bytes))
		hit |= QC_OL_SNAPSHOT_TABLE;
	if ((mask & QC_OL_BITMAP_DIR) && q->has_bitmaps_ext &&
	    meets(q, cs, cn, q->bitmap_dir_offset, q->bitmap_dir_size))
		hit |= QC_OL_BITMAP_DIR;
	return hit;
}

static int overlap_inactive_l1(struct qcow2 *q, uint64_t cs, uint64_t cn)
{
	struct qc_snap_raw sn;
	uint32_t i;
	int r;
	for (i = 0; i < q->nb_snapshots; i++) {
		r = hdi_qc_snapshot_raw(q, i, &sn);
		if (r < 0)
			return r;
		if (meets(q, cs, cn, sn.l1_offset, (uint64_t)sn.l1_size * 8u))
			return QC_OL_INACTIVE_L1;
	}
	return 0;
}

/* Raw table entries (masked, not validated: the walk must not recurse). */
static int overlap_walk(struct qcow2 *q, uint32_t kind, uint64_t cs, uint64_t cn)
{
	uint64_t i, n, e, mask;
	int r;
	n = kind == QC_OL_ACTIVE_L2 ? q->active.size : q->rt_entries;
	mask = kind == QC_OL_ACTIVE_L2 ? QC_L1E_OFFSET_MASK : QC_RTE_OFFSET_MASK;
	for (i = 0; i < n; i++) {
		void *s;
		uint64_t off;
		struct qc_cache *c = kind == QC_OL_ACTIVE_L2 ? &q->l2c : &q->rc;
		off = (kind == QC_OL_ACTIVE_L2 ? q->active.offset : q->rt_offset) + i * 8u;
		r = hdi_qc_cache_get(c, off & ~(uint64_t)(c->slice_size - 1u),
				     kind == QC_OL_ACTIVE_L2 ? QC_KIND_L1 : QC_KIND_REFTABLE, &s);
		if (r < 0)
			return r;
		e = hdi_ld_be64((uint8_t *)s + (off & (c->slice_size - 1u))) & mask;
		hdi_qc_cache_put(c, &s);
		if (e && ranges_meet(cs, cn, e >> q->cluster_bits, 1))
			return (int)kind;
	}
	return 0;
}

int hdi_qc_overlap(struct qcow2 *q, uint32_t mask, uint64_t off, uint64_t len)
{
	uint64_t cs, cn;
	int hit, r;
	to_clusters(q, off, len, &cs, &cn);
	hit = (int)overlap_cheap(q, mask, cs, cn);
	if (mask & QC_OL_INACTIVE_L1) {
		r = overlap_inactive_l1(q, cs, cn);
		if (r < 0)
			return r;
		hit |= r;
	}
	if (mask & QC_OL_ACTIVE_L2) {
		r = overlap_walk(q, QC_OL_ACTIVE_L2, cs, cn);
		if (r < 0)
			return r;
		hit |= r;
	}
	if (mask & QC_OL_REFCOUNT_BLOCK) {
		r = overlap_walk(q, QC_OL_REFCOUNT_BLOCK, cs, cn);
		if (r < 0)
			return r;
		hit |= r;
	}
	return hit;
}

/* The checks every pointer to a cluster gets on the read path: aligned,
 * starts inside the file, and not on the header or a top-level table. */
static int check_cluster_ptr(struct qcow2 *q, uint64_t off, const char *what_unaligned,
			     const char *what_outside, const char *what_overlap)
{
	uint64_t cs, cn;
	if (hdi_qc_offset_in_cluster(q, off))
		return hdi_qc_err(q, HDI_ECORRUPT, what_unaligned);
	if (off >= q->file_size)
		return hdi_qc_err(q, HDI_ECORRUPT, what_outside);
	to_clusters(q, off, q->cluster_size, &cs, &cn);
	if (overlap_cheap(q, QC_OL_CHEAP, cs, cn))
		return hdi_qc_err(q, HDI_ECORRUPT, what_overlap);
	return HDI_OK;
}

/* ---- L1 / L2 ------------------------------------------------------------ */
static int table_u64(struct qcow2 *q, struct qc_cache *c, enum qc_kind kind,
		     uint64_t off, uint64_t *v)
{
	void *s;
	uint32_t in = (uint32_t)(off & (c->slice_size - 1u));
	int r = hdi_qc_cache_get(c, off - in, kind, &s);
	if (r < 0)
		return r;
	*v = hdi_ld_be64((uint8_t *)s + in);
	hdi_qc_cache_put(c, &s);
	return HDI_OK;
}

int hdi_qc_l1_entry(struct qcow2 *q, const struct qc_l1 *l1, uint64_t idx,
		    uint64_t *entry)
{
	if (idx >= l1->size)
		return HDI_EINVAL;
	return table_u64(q, &q->l2c, QC_KIND_L1, l1->offset + idx * 8u, entry);
}

int hdi_qc_l2_offset(struct qcow2 *q, uint64_t l1_entry, uint64_t *l2_off)
{
	uint64_t off = l1_entry & QC_L1E_OFFSET_MASK;
	*l2_off = 0;
	if (!off)
		return HDI_OK;
	if (check_cluster_ptr(q, off, "L2 table offset unaligned",
			      "L2 table offset beyond the end of the file",
			      "L2 table overlaps the header or a top-level table") < 0)
		return HDI_ECORRUPT;
	*l2_off = off;
	return HDI_OK;
}

int hdi_qc_l2_entry(struct qcow2 *q, uint64_t l2_off, uint64_t idx,
		    uint64_t *entry, uint64_t *bitmap)
{
	uint64_t off = l2_off + (idx * q->l2_entry_bytes);
	int r;
	if (idx >> q->l2_bits)
		return HDI_EINVAL;
	r = table_u64(q, &q->l2c, QC_KIND_L2, off, entry);
	*bitmap = 0;
	if (r == HDI_OK && q->l2_entry_bytes == 16u)
		r = table_u64(q, &q->l2c, QC_KIND_L2, off + 8u, bitmap);
	return r;
}

/* ---- types -------------------------------------------------------------- */
enum qc_type hdi_qc_subcluster_type(const struct qcow2 *q, uint64_t entry,
				    uint64_t bitmap, unsigned sc)
{
	bool host = (entry & QC_L2E_OFFSET_MASK) != 0;
	if (entry & QC_OFLAG_COMPRESSED)
		return QC_T_COMPRESSED;
	if (q->subclusters == 1u) {
		/* QEMU honours the zero flag on v2 images too */
		if (entry & QC_OFLAG_ZERO)
			return host ? QC_T_ZERO_ALLOC : QC_T_ZERO_PLAIN;
		return host ? QC_T_NORMAL : QC_T_UNALLOC_PLAIN;
	}
	if (host) {
		if ((bitmap >> 32) & bitmap)
			return QC_T_INVALID;
		if (bitmap & QC_SUB_ZERO(sc))
			return QC_T_ZERO_ALLOC;
		return (bitmap & QC_SUB_ALLOC(sc)) ? QC_T_NORMAL : QC_T_UNALLOC_ALLOC;
	}
	if (bitmap & QC_SUB_ALL_ALLOC)
		return QC_T_INVALID;
	return (bitmap & QC_SUB_ZERO(sc)) ? QC_T_ZERO_PLAIN : QC_T_UNALLOC_PLAIN;
}

static bool has_host(enum qc_type t)
{
	return t == QC_T_NORMAL || t == QC_T_ZERO_ALLOC || t == QC_T_UNALLOC_ALLOC;
}

void hdi_qc_compressed_desc(const struct qcow2 *q, uint64_t entry,
			    uint64_t *host, uint64_t *bytes)
{
	uint32_t shift = 62u - (q->cluster_bits - 8u);
	uint64_t nsec = ((entry >> shift) & ((1ull << (q->cluster_bits - 8u)) - 1u)) + 1u;
	*host = entry & ((1ull << shift) - 1u);
	*bytes = (nsec << 9) - (*host & 511u);
}

/* ---- lookup ------------------------------------------------------------- */
struct walk {               /* one L2 slice being scanned */
	const uint8_t *slice;
	uint32_t idx, end;      /* entry index within the slice, entries in it */
};

static void entry_at(const struct qcow2 *q, const struct walk *w,
		     uint64_t *e, uint64_t *bm)
{
	const uint8_t *p = w->slice + (size_t)w->idx * q->l2_entry_bytes;
	*e = hdi_ld_be64(p);
	*bm = q->l2_entry_bytes == 16u ? hdi_ld_be64(p + 8) : 0;
}

static int host_of(struct qcow2 *q, enum qc_type t, uint64_t e, uint64_t *host)
{
	uint64_t hc = e & QC_L2E_OFFSET_MASK;
	*host = 0;
	if (!has_host(t))
		return HDI_OK;
	if (hdi_qc_offset_in_cluster(q, hc))
		return hdi_qc_err(q, HDI_ECORRUPT, "data cluster offset unaligned");
	if (t == QC_T_NORMAL && overlap_cheap(q, QC_OL_CHEAP, hc >> q->cluster_bits, 1))
		return hdi_qc_err(q, HDI_ECORRUPT,
				  "data cluster overlaps the header or a top-level table");
	*host = hc;
	return HDI_OK;
}

/* Extends run over the slice from subcluster sc of entry w->idx on. */
static int extend_run(struct qcow2 *q, struct walk *w, unsigned sc,
		      uint64_t max, struct qc_run *run)
{
	uint64_t sub = 1ull << q->subcluster_bits, e, bm, h, want;
	enum qc_type t;
	int r;
	for (; w->idx < w->end && run->len < max; w->idx++, sc = 0) {
		entry_at(q, w, &e, &bm);
		for (; sc < q->subclusters && run->len < max; sc++) {
			t = hdi_qc_subcluster_type(q, e, bm, sc);
			if (t != run->type || t == QC_T_COMPRESSED)
				return HDI_OK;
			if (has_host(t)) {
				r = host_of(q, t, e, &h);
				if (r < 0)
					return r;
				want = run->host + run->len;
				if (h + ((uint64_t)sc << q->subcluster_bits) != want)
					return HDI_OK;
			}
			run->len += sub;
		}
	}
	return HDI_OK;
}

/* First (partial) subcluster of the run at voff. */
static int start_run(struct qcow2 *q, struct walk *w, uint64_t voff,
		     struct qc_run *run, unsigned *next_sc)
{
	uint64_t e, bm, in_cl = hdi_qc_offset_in_cluster(q, voff);
	unsigned sc = (unsigned)(in_cl >> q->subcluster_bits);
	uint64_t sub_end = ((uint64_t)sc + 1u) << q->subcluster_bits;
	int r;
	entry_at(q, w, &e, &bm);
	run->type = hdi_qc_subcluster_type(q, e, bm, sc);
	run->l2_entry = e;
	if (run->type == QC_T_INVALID)
		return hdi_qc_err(q, HDI_ECORRUPT,
				  "invalid extended L2 entry (subcluster both allocated and zero)");
	if (run->type == QC_T_COMPRESSED) {
		run->len = q->cluster_size - in_cl;
		*next_sc = q->subclusters;
		return HDI_OK;
	}
	r = host_of(q, run->type, e, &run->host);
	if (r < 0)
		return r;
	if (run->host)
		run->host += in_cl;
	run->len = sub_end - in_cl;
	*next_sc = sc + 1u;
	return HDI_OK;
}

/* Runs of unallocated L2 tables, across following empty L1 entries. */
static int lookup_no_l2(struct qcow2 *q, const struct qc_l1 *l1, uint64_t l1i,
			uint64_t voff, uint64_t max, struct qc_run *run)
{
	uint32_t shift = hdi_qc_l1_shift(q);
	uint64_t e;
	int r;
	run->type = QC_T_UNALLOC_PLAIN;
	if (l1i >= l1->size) {
		run->len = max;   /* past the L1 table everything is unallocated */
		return HDI_OK;
	}
	run->len = (((l1i + 1u) << shift) - voff);
	for (l1i++; run->len < max && l1i < l1->size; l1i++) {
		r = hdi_qc_l1_entry(q, l1, l1i, &e);
		if (r < 0)
			return r;
		if (e & QC_L1E_OFFSET_MASK)
			break;
		run->len += 1ull << shift;
	}
	if (l1i >= l1->size)
		run->len = max;
	if (run->len > max)
		run->len = max;
	return HDI_OK;
}

int hdi_qc_lookup(struct qcow2 *q, const struct qc_l1 *l1, uint64_t voff,
		  uint64_t max, struct qc_run *run)
{
	uint64_t l1i, l1e = 0, l2off = 0, l2i, slice_off;
	uint32_t per_slice = q->l2c.slice_size / q->l2_entry_bytes;
	struct walk w;
	void *s;
	unsigned sc = 0;
	int r;
	memset(run, 0, sizeof(*run));
	if (!max || voff >= l1->disk_size)
		return HDI_EINVAL;
	max = hdi_min64(max, l1->disk_size - voff);
	l1i = voff >> hdi_qc_l1_shift(q);
	if (l1i >= l1->size)
		return lookup_no_l2(q, l1, l1i, voff, max, run);
	r = hdi_qc_l1_entry(q, l1, l1i, &l1e);
	if (r == HDI_OK)
		r = hdi_qc_l2_offset(q, l1e, &l2off);
	if (r < 0)
		return r;
	if (!l2off)
		return lookup_no_l2(q, l1, l1i, voff, max, run);
	l2i = (voff >> q->cluster_bits) & ((1ull << q->l2_bits) - 1u);
	slice_off = l2off + ((l2i & ~(uint64_t)(per_slice - 1u)) * q->l2_entry_bytes);
	r = hdi_qc_cache_get(&q->l2c, slice_off, QC_KIND_L2, &s);
	if (r < 0)
		return r;
	w.slice = s;
	w.idx = (uint32_t)(l2i & (per_slice - 1u));
	w.end = per_slice;
	r = start_run(q, &w, voff, run, &sc);
	if (r == HDI_OK && run->type != QC_T_COMPRESSED)
		r = extend_run(q, &w, sc, max, run);
	hdi_qc_cache_put(&q->l2c, &s);
	if (run->len > max)
		run->len = max;
	return r;
}

/* ---- refcounts ---------------------------------------------------------- */
uint64_t hdi_qc_refcount_ld(const struct qcow2 *q, const void *slice, uint32_t i)
{
	const uint8_t *p = slice;
	uint32_t o = q->refcount_order, bit;
	switch (o) {
	case 3: return p[i];
	case 4: return hdi_ld_be16(p + 2u * i);
	case 5: return hdi_ld_be32(p + 4u * i);
	case 6: return hdi_ld_be64(p + 8u * i);
	default:
		/* sub-byte widths are packed from the least significant bit */
		bit = i << o;
		return (p[bit >> 3] >> (bit & 7u)) & ((1u << (1u << o)) - 1u);
	}
}

void hdi_qc_refcount_st(const struct qcow2 *q, void *slice, uint32_t i, uint64_t v)
{
	uint8_t *p = slice;
	uint32_t o = q->refcount_order, bit, m;
	switch (o) {
	case 3: p[i] = (uint8_t)v; return;
	case 4: hdi_st_be16(p + 2u * i, (uint16_t)v); return;
	case 5: hdi_st_be32(p + 4u * i, (uint32_t)v); return;
	case 6: hdi_st_be64(p + 8u * i, v); return;
	default:
		bit = i << o;
		m = ((1u << (1u << o)) - 1u) << (bit & 7u);
		p[bit >> 3] = (uint8_t)((p[bit >> 3] & ~m) | (((uint32_t)v << (bit & 7u)) & m));
		return;
	}
}

int hdi_qc_reftable_entry(struct qcow2 *q, uint64_t i, uint64_t *rb_off)
{
	uint64_t e;
	int r;
	*rb_off = 0;
	if (i >= q->rt_entries)
		return HDI_EINVAL;
	r = table_u64(q, &q->rc, QC_KIND_REFTABLE, q->rt_offset + i * 8u, &e);
	if (r < 0)
		return r;
	e &= QC_RTE_OFFSET_MASK;
	if (!e)
		return HDI_OK;
	if (check_cluster_ptr(q, e, "refcount block offset unaligned",
			      "refcount block beyond the end of the file",
			      "refcount block overlaps the header or a top-level table") < 0)
		return HDI_ECORRUPT;
	*rb_off = e;
	return HDI_OK;
}

int hdi_qc_refcount_get(struct qcow2 *q, uint64_t ci, uint64_t *refcount)
{
	uint64_t rb, bi, byte, soff;
	uint32_t per_slice_bits = q->rc.slice_bits + 3u - q->refcount_order;
	void *s;
	int r;
	*refcount = 0;
	if ((ci >> q->rb_bits) >= q->rt_entries)
		return HDI_OK;
	r = hdi_qc_reftable_entry(q, ci >> q->rb_bits, &rb);
	if (r < 0 || !rb)
		return r;
	bi = ci & ((1ull << q->rb_bits) - 1u);
	byte = (bi << q->refcount_order) >> 3;
	soff = rb + (byte & ~(uint64_t)(q->rc.slice_size - 1u));
	r = hdi_qc_cache_get(&q->rc, soff, QC_KIND_REFBLOCK, &s);
	if (r < 0)
		return r;
	*refcount = hdi_qc_refcount_ld(q, s, (uint32_t)(bi & ((1ull << per_slice_bits) - 1u)));
	hdi_qc_cache_put(&q->rc, &s);
	return HDI_OK;
}

int hdi_qcow2_refcount(hdi_qcow2_t *h, uint64_t host_offset, uint64_t *refcount)
{
	struct qcow2 *q = hdi_qc(h);
	if (!q || q->state_magic != QC_STATE_MAGIC || !refcount)
		return HDI_EINVAL;
	return hdi_qc_refcount_get(q, host_offset >> q->cluster_bits, refcount);
}
