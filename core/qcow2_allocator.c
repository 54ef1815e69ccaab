/* core/qcow2_allocator.c: refcount updates and the cluster allocator: a
 * cursor that never rescans from the start, reuse of freed clusters, new
 * self-describing refcount blocks and refcount-table growth (QEMU's
 * layout: the new table and the blocks covering it describe themselves). */
#include "qcow2_wr.h"

#if !HDI_CONFIG_READONLY

#define MAX_RETRIES 64

static uint32_t eps_bits(const struct qcow2 *q)   /* entries per rc slice */
{
	return q->rc.slice_bits + 3u - q->refcount_order;
}

/* Slice offset and in-slice index of cluster ci's count in block rb. */
static void rc_pos(const struct qcow2 *q, uint64_t rb, uint64_t ci,
		   uint64_t *soff, uint32_t *i)
{
	uint64_t bi = ci & ((1ull << q->rb_bits) - 1u);
	uint32_t eb = eps_bits(q);
	*soff = rb + ((bi >> eb) << q->rc.slice_bits);
	*i = (uint32_t)(bi & ((1ull << eb) - 1u));
}

/* A cluster whose count reached zero: its cached tables are stale now,
 * and the allocator may hand it out again. */
static void became_free(struct qcow2 *q, uint64_t ci)
{
	struct qc_wr *w = hdi_qcw(q);
	uint64_t off = ci << q->cluster_bits;
	hdi_qc_cache_discard(&q->l2c, off, q->cluster_size);
	hdi_qc_cache_discard(&q->rc, off, q->cluster_size);
	if (ci < w->free_hint)
		w->free_hint = ci;
	if (w->free_byte && (w->free_byte >> q->cluster_bits) == ci)
		w->free_byte = 0;   /* compressed packing must not reuse it */
}

/* Adds delta (+1 or -1) to the counts of clusters [ci, ci+n). Raising
 * only ever claims a free cluster (0 -> 1); anything else is corruption. */
static int rc_update(struct qcow2 *q, uint64_t ci, uint64_t n, int delta)
{
	uint32_t per = 1u << eps_bits(q);
	while (n) {
		uint64_t rb = 0, soff, v, first = ci;
		uint32_t i;
		void *s;
		int r = HDI_OK;
		if ((ci >> q->rb_bits) < q->rt_entries)
			r = hdi_qc_reftable_entry(q, ci >> q->rb_bits, &rb);
		if (r < 0)
			return r;
		if (!rb)
			return hdi_qcw_corrupt(q, delta > 0 ?
				"allocated cluster has no refcount block" :
				"freed cluster has no refcount block");
		rc_pos(q, rb, ci, &soff, &i);
		r = hdi_qc_cache_get(&q->rc, soff, QC_KIND_REFBLOCK, &s);
		if (r < 0)
			return r;
		for (; i < per && n; i++, ci++, n--) {
			v = hdi_qc_refcount_ld(q, s, i);
			if (delta > 0 ? v != 0 : v == 0)
				break;
			hdi_qc_refcount_st(q, s, i, delta > 0 ? 1u : v - 1u);
		}
		if (ci != first)
			hdi_qc_cache_mark_dirty(&q->rc, s);
		hdi_qc_cache_put(&q->rc, &s);
		if (n && i < per)
			return hdi_qcw_corrupt(q, delta > 0 ?
				"cluster chosen as free is in use" :
				"refcount would drop below zero");
	}
	return HDI_OK;
}

/* After a decrement: note clusters that became free (a second pass, so
 * rc_update stays simple; counts are in the cache). */
static int note_free(struct qcow2 *q, uint64_t ci, uint64_t n)
{
	for (; n; ci++, n--) {
		uint64_t v;
		int r = hdi_qc_refcount_get(q, ci, &v);
		if (r < 0)
			return r;
		if (!v)
			became_free(q, ci);
	}
	return HDI_OK;
}

/* ---- finding free clusters ---------------------------------------------- */
struct scan {
	uint64_t start, len;     /* the run found */
	uint64_t first;          /* first free cluster seen (for the cursor) */
};

static void run_add(struct scan *sc, uint64_t c, uint64_t k)
{
	if (sc->first == UINT64_MAX)
		sc->first = c;
	if (!sc->len)
		sc->start = c;
	sc->len += k;
}

/* From the cursor on, the first run of free clusters (exact: the first of
 * n). Clusters no refcount block covers are free. */
static int find_free(struct qcow2 *q, uint64_t n, bool exact, struct scan *sc)
{
	uint64_t c = hdi_qcw(q)->free_hint, rb, bend;
	uint32_t per = 1u << eps_bits(q), i;
	sc->start = sc->len = 0;
	sc->first = UINT64_MAX;
	if (c == 0)
		c = 1;   /* the header */
	for (;;) {
		uint64_t k = c >> q->rb_bits, soff;
		void *s;
		int r = HDI_OK;
		rb = 0;
		if (k < q->rt_entries)
			r = hdi_qc_reftable_entry(q, k, &rb);
		if (r < 0)
			return r;
		if (!rb) {
			bend = k < q->rt_entries ? (k + 1u) << q->rb_bits : UINT64_MAX;
			run_add(sc, c, hdi_min64(bend - c, n - sc->len));
			c += hdi_min64(bend - c, n - sc->len);
			if (sc->len == n)
				return HDI_OK;
			continue;
		}
		rc_pos(q, rb, c, &soff, &i);
		r = hdi_qc_cache_get(&q->rc, soff, QC_KIND_REFBLOCK, &s);
		if (r < 0)
			return r;
		for (; i < per; i++, c++) {
			if (hdi_qc_refcount_ld(q, s, i) == 0) {
				run_add(sc, c, 1);
				if (sc->len == n)
					break;
			} else if (sc->len) {
				if (!exact)
					break;
				sc->len = 0;
			}
		}
		hdi_qc_cache_put(&q->rc, &s);
		if (sc->len == n || (sc->len && !exact && i < per))
			return HDI_OK;
		if (c >= (1ull << (56 - q->cluster_bits)))
			return hdi_qc_err(q, HDI_ENOSPC, "image file full (2^56 bytes)");
	}
}

/* ---- growing the refcount structures ------------------------------------ */
int hdi_qcw_make_room(struct qcow2 *q, uint64_t off, uint64_t len, bool *fresh)
{
	uint64_t end, dev;
	int r;
	if (!hdi_add_ok(off, len, &end) || end > (1ull << 56))
		return hdi_qc_err(q, HDI_ENOSPC, "image file full (2^56 bytes)");
	r = hdi_bdev_size(q->file, &dev);
	if (r < 0)
		return r;
	*fresh = off >= q->file_size && off >= dev;
	if (end <= q->file_size)
		return HDI_OK;
	/* whole granules, so a later read-modify-write of the last one
	 * stays inside the device (clusters may be smaller than a granule) */
	end = (end + q->file->granule - 1u) & ~(uint64_t)(q->file->granule - 1u);
	r = hdi_bdev_ensure_size(q->file, end);
	if (r < 0)
		return hdi_qc_err(q, r, "cannot grow the image file");
	q->file_size = end;
	return HDI_OK;
}

/* Sets refcount-table entry k (through the cache). */
static int set_rt(struct qcow2 *q, uint64_t k, uint64_t rb)
{
	uint64_t off = q->rt_offset + k * 8u;
	uint64_t soff = off & ~(uint64_t)(q->rc.slice_size - 1u);
	void *s;
	int r = hdi_qc_cache_get(&q->rc, soff, QC_KIND_REFTABLE, &s);
	if (r < 0)
		return r;
	hdi_st_be64((uint8_t *)s + (off - soff), rb);
	hdi_qc_cache_mark_dirty(&q->rc, s);
	hdi_qc_cache_put(&q->rc, &s);
	return HDI_OK;
}

/* Writes refcount 1 for clusters [c, c+n), all inside the new (zeroed,
 * not yet referenced) block at rb that covers them, slice by slice. */
static int init_block_counts(struct qcow2 *q, uint64_t rb, uint64_t c,
			     uint64_t n)
{
	while (n) {
		uint64_t soff;
		uint32_t i, per = 1u << eps_bits(q);
		void *s;
		int r;
		rc_pos(q, rb, c, &soff, &i);
		r = hdi_qc_cache_get_empty(&q->rc, soff, QC_KIND_REFBLOCK, &s);
		if (r < 0)
			return r;
		for (; i < per && n; i++, c++, n--)
			hdi_qc_refcount_st(q, s, i, 1u);
		hdi_qc_cache_mark_dirty(&q->rc, s);
		hdi_qc_cache_put(&q->rc, &s);
		r = hdi_qc_cache_write_slice(&q->rc, soff);
		if (r < 0)
			return r;
	}
	return HDI_OK;
}

/* A refcount block for block index k, placed at cluster b inside the range
 * it covers, so it counts itself (every cluster of an uncovered range is
 * free). Block first, flushed, then the table entry. */
static int new_block(struct qcow2 *q, uint64_t k, uint64_t b)
{
	uint64_t off = b << q->cluster_bits;
	bool fresh;
	int r = hdi_qcw_make_room(q, off, q->cluster_size, &fresh);
	if (r == HDI_OK)
		r = hdi_qcw_check(q, QW_OL_DATA, off, q->cluster_size);
	if (r == HDI_OK && !fresh)
		r = hdi_qcw_zero_fill(q, off, q->cluster_size);
	if (r == HDI_OK)
		r = init_block_counts(q, off, b, 1);
	if (r == HDI_OK)
		r = hdi_bdev_flush(q->file);
	if (r == HDI_OK)
		r = set_rt(q, k, off);
	if (r == HDI_OK && k + 1u > hdi_qcw(q)->rt_used)
		hdi_qcw(q)->rt_used = k + 1u;
	return r;
}

/* A bigger refcount table, and the blocks for the clusters it and they
 * occupy, in one area at the end of the covered range (QEMU's
 * self-describing refcount area). Then the header switches to it. */
static int grow_reftable(struct qcow2 *q)
{
	uint64_t old = q->rt_entries, a = old << q->rb_bits, want, tc, nb = 1, last;
	uint64_t ents, new_off, old_off = q->rt_offset, j, area;
	uint32_t old_cl = q->rt_clusters, cb = q->cluster_bits;
	uint8_t h[12];
	bool fresh;
	int r;
	want = old + (old >> 1) + 1u;
	for (;;) {
		tc = ((want << 3) + q->cluster_size - 1u) >> cb;
		ents = tc << (cb - 3u);
		for (;;) {   /* blocks for the area itself */
			last = (a + nb + tc - 1u) >> q->rb_bits;
			if (last - (a >> q->rb_bits) + 1u == nb)
				break;
			nb = last - (a >> q->rb_bits) + 1u;
		}
		if (last < ents)
			break;
		want = last + 1u;
	}
	if ((tc << cb) > QC_MAX_REFTABLE_BYTES)
		return hdi_qc_err(q, HDI_ENOSPC, "refcount table would exceed 8 MiB");
	area = a << cb;
	new_off = (a + nb) << cb;
	r = hdi_qc_cache_write(&q->rc);
	if (r == HDI_OK)
		r = hdi_qcw_make_room(q, area, (nb + tc) << cb, &fresh);
	if (r == HDI_OK)
		r = hdi_qcw_check(q, QW_OL_DATA, area, (nb + tc) << cb);
	if (r == HDI_OK && !fresh)
		r = hdi_qcw_zero_fill(q, area, (nb + tc) << cb);
	/* block j (index old + j, at cluster a + j) counts the area clusters
	 * that fall in its range */
	for (j = 0; r == HDI_OK && j < nb; j++) {
		uint64_t lo = (old + j) << q->rb_bits, hi = lo + (1ull << q->rb_bits);
		uint64_t s = hdi_max64(lo, a), e = hdi_min64(hi, a + nb + tc);
		if (s < e)
			r = init_block_counts(q, (a + j) << cb, s, e - s);
	}
	if (r == HDI_OK)
		r = hdi_qcw_file_copy(q, new_off, old_off, old << 3);
	for (j = 0; r == HDI_OK && j < nb; j++) {
		uint8_t e[8];
		hdi_st_be64(e, (a + j) << cb);
		r = hdi_qc_pwrite(q, new_off + ((old + j) << 3), e, 8);
	}
	if (r == HDI_OK)
		r = hdi_bdev_flush(q->file);
	if (r < 0)
		return r;
	hdi_st_be64(h, new_off);
	hdi_st_be32(h + 8, (uint32_t)tc);
	r = hdi_qcw_header_write(q, 48, h, 12);
	if (r < 0)
		return r;
	q->rt_offset = new_off;
	q->rt_clusters = (uint32_t)tc;
	q->rt_entries = ents;
	hdi_qcw(q)->rt_used = old + nb;
	hdi_qc_cache_discard(&q->rc, old_off, (uint64_t)old_cl << cb);
	/* nothing on disk points at the old table any more */
	return hdi_qcw_free_now(q, old_off, (uint64_t)old_cl << cb);
}

/* Makes sure refcount blocks cover [s, s+n). Returns 1 if it had to
 * allocate (the caller scans again), 0 if covered. */
static int cover(struct qcow2 *q, uint64_t s, uint64_t n)
{
	uint64_t k, rb;
	int r;
	for (k = s >> q->rb_bits; k <= (s + n - 1u) >> q->rb_bits; k++) {
		if (k >= q->rt_entries) {
			r = grow_reftable(q);
			return r < 0 ? r : 1;
		}
		r = hdi_qc_reftable_entry(q, k, &rb);
		if (r < 0)
			return r;
		if (!rb) {
			r = new_block(q, k, hdi_max64(s, k << q->rb_bits));
			return r < 0 ? r : 1;
		}
	}
	return 0;
}

int hdi_qcw_alloc(struct qcow2 *q, uint64_t n, bool exact, uint64_t *off,
		  uint64_t *got, bool *fresh)
{
	struct qc_wr *w = hdi_qcw(q);
	struct scan sc;
	int tries, r;
	for (tries = 0; tries < MAX_RETRIES; tries++) {
		r = find_free(q, n, exact, &sc);
		if (r < 0)
			return r;
		if (sc.first != UINT64_MAX && sc.first > w->free_hint)
			w->free_hint = sc.first;
		r = cover(q, sc.start, sc.len);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		*off = sc.start << q->cluster_bits;
		*got = sc.len;
		r = hdi_qcw_make_room(q, *off, sc.len << q->cluster_bits, fresh);
		if (r == HDI_OK)
			r = hdi_qcw_check(q, QW_OL_DATA, *off, sc.len << q->cluster_bits);
		if (r == HDI_OK)
			r = rc_update(q, sc.start, sc.len, +1);
		if (r < 0)
			return r;
		if (sc.start == w->free_hint)
			w->free_hint = sc.start + sc.len;
		/* the new counts reach the disk before any L1/L2 entry using them */
		if (!(w->flags & QW_LAZY))
			return hdi_qc_cache_set_dependency(&q->l2c, &q->rc);
		return HDI_OK;
	}
	return hdi_qc_err(q, HDI_ENOSPC, "cannot find free clusters");
}

int hdi_qcw_file_copy(struct qcow2 *q, uint64_t dst, uint64_t src, uint64_t len)
{
	while (len) {
		size_t n = (size_t)hdi_min64(len, q->scratch_size);
		int r = hdi_qc_pread(q, src, q->scratch, n);
		if (r == HDI_OK)
			r = hdi_qc_pwrite(q, dst, q->scratch, n);
		if (r < 0)
			return r;
		src += n;
		dst += n;
		len -= n;
	}
	return HDI_OK;
}

int hdi_qcw_ref(struct qcow2 *q, uint64_t ci)
{
	uint64_t rb = 0, soff, v, max;
	uint32_t i;
	void *s;
	int r = HDI_OK;
	if ((ci >> q->rb_bits) < q->rt_entries)
		r = hdi_qc_reftable_entry(q, ci >> q->rb_bits, &rb);
	if (r < 0)
		return r;
	if (!rb)
		return hdi_qcw_corrupt(q, "shared cluster has no refcount block");
	rc_pos(q, rb, ci, &soff, &i);
	r = hdi_qc_cache_get(&q->rc, soff, QC_KIND_REFBLOCK, &s);
	if (r < 0)
		return r;
	v = hdi_qc_refcount_ld(q, s, i);
	max = q->refcount_bits == 64u ? UINT64_MAX : (1ull << q->refcount_bits) - 1u;
	if (v != 0 && v < max) {
		hdi_qc_refcount_st(q, s, i, v + 1u);
		hdi_qc_cache_mark_dirty(&q->rc, s);
	}
	hdi_qc_cache_put(&q->rc, &s);
	if (v == 0 || v >= max)
		return hdi_qcw_corrupt(q, v ? "refcount would overflow"
					    : "shared cluster has refcount 0");
	if (!(hdi_qcw(q)->flags & QW_LAZY))
		return hdi_qc_cache_set_dependency(&q->l2c, &q->rc);
	return HDI_OK;
}

/* ---- freeing ------------------------------------------------------------- */
static void cluster_span(const struct qcow2 *q, uint64_t off, uint64_t len,
			 uint64_t *ci, uint64_t *n)
{
	*ci = off >> q->cluster_bits;
	*n = ((off + len - 1u) >> q->cluster_bits) - *ci + 1u;
}

int hdi_qcw_free_now(struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint64_t ci, n;
	int r;
	if (!len)
		return HDI_OK;
	cluster_span(q, off, len, &ci, &n);
	r = rc_update(q, ci, n, -1);
	if (r == HDI_OK)
		r = note_free(q, ci, n);
	hdi_qc_read_invalidate(q);
	return r;
}

int hdi_qcw_free_later(struct qcow2 *q, uint64_t off, uint64_t len)
{
	struct qc_wr *w = hdi_qcw(q);
	struct qw_range *p;
	int r;
	if (!len)
		return HDI_OK;
	if (w->npend) {
		p = &w->pend[w->npend - 1u];
		/* whole clusters next to each other merge; compressed byte
		 * ranges may share a cluster and must each count once */
		if (p->off + p->len == off && !((off | len) & (q->cluster_size - 1u)) &&
		    !((p->off | p->len) & (q->cluster_size - 1u))) {
			p->len += len;
			return HDI_OK;
		}
	}
	if (w->npend == QW_PEND) {
		r = hdi_qcw_apply_frees(q);
		if (r < 0)
			return r;
	}
	w->pend[w->npend].off = off;
	w->pend[w->npend].len = len;
	w->npend++;
	return HDI_OK;
}

int hdi_qcw_apply_frees(struct qcow2 *q)
{
	struct qc_wr *w = hdi_qcw(q);
	uint32_t i, n = w->npend;
	int r = HDI_OK, r2;
	if (!n)
		return HDI_OK;
	/* the dropped references must be gone from the disk first */
	if (!(w->flags & QW_LAZY))
		r = hdi_qc_cache_flush(&q->l2c);
	if (r < 0)
		return r;
	w->npend = 0;
	for (i = 0; i < n; i++) {
		r2 = hdi_qcw_free_now(q, w->pend[i].off, w->pend[i].len);
		if (r2 < 0 && r == HDI_OK)
			r = r2;
	}
	return r;
}

#endif /* !HDI_CONFIG_READONLY */
