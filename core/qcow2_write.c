/* core/qcow2_write.c: writing the virtual disk: runs of whole clusters
 * allocated and written at once, partial clusters completed from what the
 * disk read before (backing file, zeros, decompressed data), extended-L2
 * subclusters, copy-on-write of shared clusters; write-zeroes, discard and
 * the tail drop of a shrink. */
#include "qcow2_wr.h"

#if !HDI_CONFIG_READONLY

#define SECTOR 512u

/* What a write puts: bytes of buf (virtual offset voff), or zeros. */
struct src {
	const uint8_t *buf;
	uint64_t voff;
	bool prealloc;     /* host space only: subclusters stay unallocated */
};

/* An L2 entry as the write path sees it. */
struct cl {
	uint64_t e, bm;       /* entry and extended-L2 bitmap */
	uint64_t host;        /* data cluster, 0 if none or compressed */
	bool comp;
	bool inplace;         /* owned by this image alone: write in place */
};

static uint32_t all_subs(const struct qcow2 *q)
{
	return q->subclusters == 1u ? 1u : 0xffffffffu;
}

/* Subclusters that hold data in the host cluster. */
static uint32_t data_subs(const struct qcow2 *q, const struct cl *c)
{
	if (c->comp || !c->host)
		return 0;
	if (q->subclusters == 1u)
		return (c->e & QC_OFLAG_ZERO) ? 0 : 1u;
	return (uint32_t)c->bm;
}

/* Subclusters overlapping bytes [a, b) of a cluster (a < b). */
static uint32_t sub_mask(const struct qcow2 *q, uint64_t a, uint64_t b)
{
	uint32_t s0 = (uint32_t)(a >> q->subcluster_bits);
	uint32_t s1 = (uint32_t)((b - 1u) >> q->subcluster_bits);
	if (q->subclusters == 1u)
		return 1u;
	return (s1 == 31u ? 0xffffffffu : ((1u << (s1 + 1u)) - 1u)) &
	       ~((1u << s0) - 1u);
}

static int classify(struct qcow2 *q, uint64_t l2, uint64_t idx, struct cl *c)
{
	uint64_t rc;
	int r = hdi_qc_l2_entry(q, l2, idx, &c->e, &c->bm);
	if (r < 0)
		return r;
	c->comp = (c->e & QC_OFLAG_COMPRESSED) != 0;
	c->host = c->comp ? 0 : c->e & QC_L2E_OFFSET_MASK;
	c->inplace = false;
	if (c->comp)
		return HDI_OK;
	if (q->subclusters > 1u &&
	    (c->host ? ((c->bm >> 32) & c->bm) != 0 : (c->bm & QC_SUB_ALL_ALLOC) != 0))
		return hdi_qcw_corrupt(q, "invalid extended L2 entry");
	if (!c->host || !(c->e & QC_OFLAG_COPIED))
		return HDI_OK;
	if (hdi_qc_offset_in_cluster(q, c->host))
		return hdi_qcw_corrupt(q, "data cluster offset unaligned");
	/* trust COPIED only when the refcount agrees: a shared cluster
	 * written in place would change a snapshot */
	r = hdi_qc_refcount_get(q, c->host >> q->cluster_bits, &rc);
	if (r < 0)
		return r;
	if (rc != 1)
		return hdi_qcw_corrupt(q, rc ? "COPIED flag on a shared data cluster"
					     : "data cluster in use has refcount 0");
	c->inplace = true;
	return HDI_OK;
}

/* Virtual bytes as they read now; past the disk's end, zeros. off and n
 * are sector multiples, so backing reads need no bounce buffer (the read
 * path would use scratch for one, and buf is scratch). */
static int read_virtual(struct qcow2 *q, uint64_t off, uint8_t *buf, size_t n)
{
	size_t have = 0;
	if (off < q->size)
		have = (size_t)hdi_min64(n, q->size - off);
	memset(buf + have, 0, n - have);
	return have ? hdi_qc_read_view(q, &q->active, off, buf, have) : HDI_OK;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n && !*p)
		p++, n--;
	return n == 0;
}

static int put_data(struct qcow2 *q, uint64_t host, const struct src *s,
		    uint64_t voff, uint64_t len, bool fresh)
{
	if (s->buf)
		return hdi_qc_pwrite(q, host, s->buf + (voff - s->voff), (size_t)len);
	return fresh ? HDI_OK : hdi_qcw_zero_fill(q, host, len);
}

/* One cluster being (re)written: where it goes and what it held. */
struct job {
	uint64_t cv, target;   /* virtual start of the cluster, host cluster */
	uint64_t a, b;         /* bytes of new data within the cluster */
	const struct src *s;
	bool fresh;            /* target reads zeros already */
};

/* Copies what the disk reads now over [lo, hi) of the cluster. */
static int fill(struct qcow2 *q, const struct job *j, uint64_t lo, uint64_t hi)
{
	while (lo < hi) {
		size_t n = (size_t)hdi_min64(hi - lo, q->scratch_size);
		int r = read_virtual(q, j->cv + lo, q->scratch, n);
		if (r < 0)
			return r;
		if (!(j->fresh && all_zero(q->scratch, n))) {
			r = hdi_qc_pwrite(q, j->target + lo, q->scratch, n);
			if (r < 0)
				return r;
		}
		lo += n;
	}
	return HDI_OK;
}

/* A sector that is part new data, part what the disk reads now. */
static int mixed(struct qcow2 *q, const struct job *j, uint64_t s0)
{
	uint64_t o0 = hdi_max64(s0, j->a), o1 = hdi_min64(s0 + SECTOR, j->b);
	int r = read_virtual(q, j->cv + s0, q->scratch, SECTOR);
	if (r < 0)
		return r;
	if (j->s->buf)
		memcpy(q->scratch + (o0 - s0), j->s->buf + (j->cv + o0 - j->s->voff),
		       (size_t)(o1 - o0));
	else
		memset(q->scratch + (o0 - s0), 0, (size_t)(o1 - o0));
	return hdi_qc_pwrite(q, j->target + s0, q->scratch, SECTOR);
}

/* Writes bytes [r0, r1) of the cluster (subcluster-aligned): the new data
 * where it falls, and, if completing, the rest from the current contents. */
static int write_span(struct qcow2 *q, const struct job *j, uint64_t r0,
		      uint64_t r1, bool complete)
{
	uint64_t d0 = hdi_max64(r0, j->a), d1 = hdi_min64(r1, j->b), hs, pos, me;
	int r;
	if (!complete)
		return d0 < d1 ? put_data(q, j->target + d0, j->s, j->cv + d0,
					  d1 - d0, j->fresh) : HDI_OK;
	if (d0 >= d1)
		return fill(q, j, r0, r1);
	hs = d0 & ~(uint64_t)(SECTOR - 1u);
	r = fill(q, j, r0, hs);
	pos = hs;
	if (r == HDI_OK && (d0 != hs || d1 < hs + SECTOR)) {
		r = mixed(q, j, hs);
		pos = hs + SECTOR;
	}
	if (r == HDI_OK && pos < d1) {
		me = d1 & ~(uint64_t)(SECTOR - 1u);
		if (pos < me)
			r = put_data(q, j->target + pos, j->s, j->cv + pos, me - pos,
				     j->fresh);
		pos = hdi_max64(pos, me);
		if (r == HDI_OK && me < d1) {
			r = mixed(q, j, me);
			pos = me + SECTOR;
		}
	}
	return r == HDI_OK ? fill(q, j, pos, r1) : r;
}

/* Writes the subclusters in sel, completing those in comp. */
static int write_subs(struct qcow2 *q, const struct job *j, uint32_t sel,
		      uint32_t comp)
{
	uint32_t n = q->subclusters, s = 0, t;
	uint64_t sz = 1ull << q->subcluster_bits;
	int r;
	while (s < n) {
		bool c;
		if (!(sel & (1u << s))) {
			s++;
			continue;
		}
		c = (comp >> s) & 1u;
		for (t = s + 1u; t < n && ((sel >> t) & 1u) && ((comp >> t) & 1u) == c; t++)
			;
		r = write_span(q, j, s * sz, t * sz, c);
		if (r < 0)
			return r;
		s = t;
	}
	return HDI_OK;
}

/* Writes bytes [a, b) of the cluster at index idx of table l2. */
static int write_cluster(struct qcow2 *q, uint64_t l2, uint64_t idx,
			 uint64_t cv, uint64_t a, uint64_t b, const struct src *s)
{
	struct cl c;
	struct job j;
	uint64_t got, ne, nbm = 0, zeros;
	uint32_t t = sub_mask(q, a, b), sel, comp;
	int r = classify(q, l2, idx, &c);
	if (r < 0)
		return r;
	j.cv = cv;
	j.a = a;
	j.b = b;
	j.s = s;
	if (c.inplace) {
		j.target = c.host;
		j.fresh = false;
		sel = t;
		comp = t & ~data_subs(q, &c);
		zeros = (c.bm >> 32) & ~(uint64_t)t;
		nbm = (c.bm & QC_SUB_ALL_ALLOC) | t | (zeros << 32);
	} else {
		r = hdi_qcw_alloc(q, 1, true, &j.target, &got, &j.fresh);
		if (r < 0)
			return r;
		/* the new cluster keeps what the old one held */
		sel = q->subclusters == 1u ? 1u :
		      t | (c.comp ? all_subs(q) : data_subs(q, &c));
		comp = sel;
		zeros = c.comp ? 0 : ((c.bm >> 32) & ~(uint64_t)sel);
		nbm = sel | (zeros << 32);
	}
	if (q->subclusters == 1u)
		nbm = 0;
	ne = j.target | QC_OFLAG_COPIED;
	r = hdi_qcw_check(q, QW_OL_DATA, j.target, q->cluster_size);
	if (r == HDI_OK)
		r = write_subs(q, &j, sel, comp);
	if (r < 0)
		return r;
	if (c.inplace && ne == c.e && nbm == c.bm)
		return HDI_OK;
	/* bytes this write did not touch were copied in: they must be on
	 * disk before the entry that makes them visible */
	if (comp)
		hdi_qc_cache_depends_on_flush(&q->l2c);
	r = hdi_qcw_set_l2(q, l2, idx, ne, nbm);
	if (r == HDI_OK && !c.inplace)
		r = hdi_qcw_release(q, c.e);
	return r;
}

/* Whole clusters from idx on: a run that needs new clusters is allocated
 * and written at once; a run owned in place with contiguous host clusters
 * is written at once. Returns the clusters done in *done. */
static int write_whole(struct qcow2 *q, uint64_t l2, uint64_t idx, uint64_t cv,
		       uint64_t max, const struct src *s, uint64_t *done)
{
	struct cl c0, c;
	uint64_t k = 1, host, got, i, e, bm, full = QC_SUB_ALL_ALLOC;
	bool fresh;
	int r = classify(q, l2, idx, &c0);
	if (r < 0)
		return r;
	for (; k < max; k++) {
		r = classify(q, l2, idx + k, &c);
		if (r < 0)
			return r;
		if (c.inplace != c0.inplace ||
		    (c0.inplace && c.host != c0.host + (k << q->cluster_bits)))
			break;
	}
	if (q->subclusters == 1u || s->prealloc)
		full = 0;
	if (c0.inplace) {
		host = c0.host;
		fresh = false;
		got = k;
		r = hdi_qcw_check(q, QW_OL_DATA, host, k << q->cluster_bits);
	} else {
		r = hdi_qcw_alloc(q, k, false, &host, &got, &fresh);
	}
	if (r == HDI_OK)
		r = put_data(q, host, s, cv, got << q->cluster_bits, fresh);
	for (i = 0; r == HDI_OK && i < got; i++) {
		r = hdi_qc_l2_entry(q, l2, idx + i, &e, &bm);
		if (r < 0)
			break;
		if (c0.inplace && !(e & QC_OFLAG_ZERO) && bm == full)
			continue;
		r = hdi_qcw_set_l2(q, l2, idx + i,
				   (host + (i << q->cluster_bits)) | QC_OFLAG_COPIED, full);
		if (r == HDI_OK && !c0.inplace)
			r = hdi_qcw_release(q, e);
	}
	*done = got;
	return r;
}

static uint64_t l2_end(const struct qcow2 *q, uint64_t voff)
{
	uint32_t sh = hdi_qc_l1_shift(q);
	return ((voff >> sh) + 1u) << sh;
}

/* [voff, voff+n) within the reach of one L2 table. */
static int write_l2_range(struct qcow2 *q, uint64_t voff, uint64_t n,
			  const struct src *s)
{
	uint64_t l2, mask = (1ull << q->l2_bits) - 1u;
	int r = hdi_qcw_l2_for_write(q, voff, &l2);
	while (r == HDI_OK && n) {
		uint64_t in = hdi_qc_offset_in_cluster(q, voff), done = 0, take;
		uint64_t idx = (voff >> q->cluster_bits) & mask;
		if (!in && n >= q->cluster_size) {
			r = write_whole(q, l2, idx, voff, n >> q->cluster_bits, s, &done);
			take = done << q->cluster_bits;
		} else {
			take = hdi_min64(n, q->cluster_size - in);
			r = write_cluster(q, l2, idx, voff - in, in, in + take, s);
		}
		voff += take;
		n -= take;
	}
	return r;
}

static int check_range(struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint64_t end;
	if (!hdi_add_ok(off, len, &end) || end > q->size)
		return hdi_qc_err(q, HDI_EINVAL, "range beyond the end of the disk");
	return HDI_OK;
}

int hdi_qcow2_write(hdi_qcow2_t *h, uint64_t off, const void *buf, size_t len)
{
	struct qcow2 *q = hdi_qc(h);
	struct src s;
	int r = hdi_qcw_begin(q);
	if (r < 0)
		return r;
	if (!buf && len)
		return HDI_EINVAL;
	r = check_range(q, off, len);
	s.buf = buf;
	s.voff = off;
	s.prealloc = false;
	while (r == HDI_OK && len) {
		uint64_t n = hdi_min64(len, l2_end(q, off) - off);
		r = write_l2_range(q, off, n, &s);
		off += n;
		len -= (size_t)n;
	}
	return r;
}

/* Every cluster of the disk gets a host cluster and an L2 entry (QEMU's
 * preallocation=metadata). New file space reads as zeros; elsewhere zeros
 * are written. */
int hdi_qcw_preallocate(struct qcow2 *q)
{
	static const struct src zsrc = { NULL, 0, true };
	uint64_t off = 0;
	int r = hdi_qcw_begin(q);
	while (r == HDI_OK && off < q->size) {
		uint64_t n = hdi_min64(q->size - off, l2_end(q, off) - off);
		/* whole clusters only: the last partial one is allocated whole */
		n = (n + q->cluster_size - 1u) & ~(uint64_t)(q->cluster_size - 1u);
		r = write_l2_range(q, off, n, &zsrc);
		off += n;
	}
	return r;
}

/* ---- zeroes and discard --------------------------------------------------- */
/* Would unallocated clusters in [voff, voff+len) show backing data? An
 * image opened without its backing file assumes so. */
static bool backing_shows(const struct qcow2 *q, uint64_t voff)
{
	return q->backing_name_size && (!q->backing || voff < q->backing_size);
}

/* Bytes [a, b) of a cluster read as zeros after this: nothing is written
 * if they already do. */
static int zero_bytes(struct qcow2 *q, uint64_t l2, uint64_t idx, uint64_t cv,
		      uint64_t a, uint64_t b)
{
	static const struct src zsrc = { NULL, 0, false };
	uint64_t w0 = a & ~(uint64_t)(SECTOR - 1u), w1, e = (b + SECTOR - 1u) & ~(uint64_t)(SECTOR - 1u);
	int r;
	for (; w0 < e; w0 = w1) {
		uint64_t lo, hi;
		w1 = hdi_min64(e, w0 + q->scratch_size);
		r = read_virtual(q, cv + w0, q->scratch, (size_t)(w1 - w0));
		if (r < 0)
			return r;
		lo = hdi_max64(a, w0);
		hi = hdi_min64(b, w1);
		if (!all_zero(q->scratch + (lo - w0), (size_t)(hi - lo)))
			return write_cluster(q, l2, idx, cv, a, b, &zsrc);
	}
	return HDI_OK;
}

static int zero_whole(struct qcow2 *q, uint64_t l2, uint64_t idx, uint64_t cv,
		      bool discard)
{
	static const struct src zsrc = { NULL, 0, false };
	bool bs = backing_shows(q, cv);
	uint64_t ne, nbm = 0;
	struct cl c;
	int r;
	if (q->version < 3 && bs)   /* no zero flag: zeros must be written */
		return write_cluster(q, l2, idx, cv, 0, q->cluster_size, &zsrc);
	r = classify(q, l2, idx, &c);
	if (r < 0)
		return r;
	if (q->subclusters > 1u) {
		ne = 0;
		nbm = bs ? QC_SUB_ALL_ZERO : 0;
	} else {
		ne = (q->version >= 3 && (bs || !discard)) ? QC_OFLAG_ZERO : 0;
	}
	/* nothing there and nothing behind: it reads zeros already */
	if (!c.host && !c.comp && !bs)
		return HDI_OK;
	if (c.e == ne && c.bm == nbm)
		return HDI_OK;
	r = hdi_qcw_set_l2(q, l2, idx, ne, nbm);
	return r < 0 ? r : hdi_qcw_release(q, c.e);
}

/* Part of a cluster: whole subclusters by their zero bits, the rest by
 * writing zeros where it does not read zero already. */
static int zero_part(struct qcow2 *q, uint64_t l2, uint64_t idx, uint64_t cv,
		     uint64_t a, uint64_t b)
{
	uint64_t sz = 1ull << q->subcluster_bits;
	uint64_t sa = (a + sz - 1u) & ~(sz - 1u), sb = b & ~(sz - 1u), ne, nbm;
	uint32_t f;
	struct cl c;
	int r;
	if (q->subclusters == 1u || sa >= sb)
		return zero_bytes(q, l2, idx, cv, a, b);
	r = classify(q, l2, idx, &c);
	if (r < 0)
		return r;
	if (c.comp)   /* no bitmap on compressed clusters */
		return zero_bytes(q, l2, idx, cv, a, b);
	f = sub_mask(q, sa, sb);
	nbm = (c.bm & ~(uint64_t)f & QC_SUB_ALL_ALLOC) |
	      (((c.bm >> 32) | f) << 32);
	ne = c.e;
	if (c.host && !(nbm & QC_SUB_ALL_ALLOC))
		ne = 0;   /* no data left in the host cluster: let it go */
	if (ne != c.e || nbm != c.bm) {
		r = hdi_qcw_set_l2(q, l2, idx, ne, nbm);
		if (r == HDI_OK && ne != c.e)
			r = hdi_qcw_release(q, c.e);
		if (r < 0)
			return r;
	}
	r = zero_bytes(q, l2, idx, cv, a, sa);
	return r < 0 ? r : zero_bytes(q, l2, idx, cv, sb, b);
}

static int zero_l2_range(struct qcow2 *q, uint64_t voff, uint64_t n,
			 bool discard)
{
	uint64_t l2, e, mask = (1ull << q->l2_bits) - 1u;
	int r = hdi_qc_l1_entry(q, &q->active, voff >> hdi_qc_l1_shift(q), &e);
	if (r < 0)
		return r;
	if (!(e & QC_L1E_OFFSET_MASK) && !backing_shows(q, voff))
		return HDI_OK;   /* no table, nothing behind: all zeros */
	r = hdi_qcw_l2_for_write(q, voff, &l2);
	while (r == HDI_OK && n) {
		uint64_t in = hdi_qc_offset_in_cluster(q, voff);
		uint64_t take = hdi_min64(n, q->cluster_size - in);
		uint64_t idx = (voff >> q->cluster_bits) & mask;
		if (take == q->cluster_size)
			r = zero_whole(q, l2, idx, voff, discard);
		else
			r = zero_part(q, l2, idx, voff - in, in, in + take);
		voff += take;
		n -= take;
	}
	return r;
}

int hdi_qcw_zero_range(struct qcow2 *q, uint64_t off, uint64_t len,
		       bool discard)
{
	int r = HDI_OK;
	while (r == HDI_OK && len) {
		uint64_t n = hdi_min64(len, l2_end(q, off) - off);
		r = zero_l2_range(q, off, n, discard);
		off += n;
		len -= n;
	}
	return r;
}

int hdi_qcow2_write_zeroes(hdi_qcow2_t *h, uint64_t off, uint64_t len)
{
	struct qcow2 *q = hdi_qc(h);
	int r = hdi_qcw_begin(q);
	if (r == HDI_OK)
		r = check_range(q, off, len);
	return r < 0 ? r : hdi_qcw_zero_range(q, off, len, false);
}

int hdi_qcow2_discard(hdi_qcow2_t *h, uint64_t off, uint64_t len)
{
	struct qcow2 *q = hdi_qc(h);
	int r = hdi_qcw_begin(q);
	if (r == HDI_OK)
		r = check_range(q, off, len);
	return r < 0 ? r : hdi_qcw_zero_range(q, off, len, true);
}

/* ---- shrink ---------------------------------------------------------------- */
/* Every entry of table l2 from idx on is dropped; their space is freed
 * once the cleared entries are on disk. */
static int drop_entries(struct qcow2 *q, uint64_t l2, uint64_t idx, bool clear)
{
	uint64_t e, bm, n = 1ull << q->l2_bits;
	int r;
	for (; idx < n; idx++) {
		r = hdi_qc_l2_entry(q, l2, idx, &e, &bm);
		if (r < 0)
			return r;
		if (!e && !bm)
			continue;
		if (clear) {
			r = hdi_qcw_set_l2(q, l2, idx, 0, 0);
			if (r < 0)
				return r;
		}
		r = hdi_qcw_release(q, e);
		if (r < 0)
			return r;
	}
	return HDI_OK;
}

int hdi_qcw_drop_tail(struct qcow2 *q, uint64_t voff)
{
	uint32_t sh = hdi_qc_l1_shift(q);
	uint64_t l1i = voff >> sh, e, l2;
	int r;
	if (voff & ((1ull << sh) - 1u)) {
		if (l1i < q->active.size) {
			r = hdi_qc_l1_entry(q, &q->active, l1i, &e);
			if (r == HDI_OK && (e & QC_L1E_OFFSET_MASK)) {
				r = hdi_qcw_l2_for_write(q, voff, &l2);
				if (r == HDI_OK)
					r = drop_entries(q, l2, (voff >> q->cluster_bits) &
							 ((1ull << q->l2_bits) - 1u), true);
			}
			if (r < 0)
				return r;
		}
		l1i++;
	}
	for (; l1i < q->active.size; l1i++) {
		r = hdi_qc_l1_entry(q, &q->active, l1i, &e);
		if (r == HDI_OK)
			r = hdi_qc_l2_offset(q, e, &l2);
		if (r < 0)
			return r;
		if (!l2)
			continue;
		/* the L1 entry goes first: the table and everything it maps
		 * lose this reference only once that is on disk */
		r = hdi_qcw_set_l1(q, l1i, 0);
		if (r == HDI_OK)
			r = drop_entries(q, l2, 0, false);
		if (r == HDI_OK)
			r = hdi_qcw_free_later(q, l2, q->cluster_size);
		if (r < 0)
			return r;
	}
	return HDI_OK;
}

#endif /* !HDI_CONFIG_READONLY */
