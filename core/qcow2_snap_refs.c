/* core/qcow2_snap_refs.c: what internal snapshots do to refcounts: walks
 * over everything an L1 table reaches (L2 tables, data and compressed
 * clusters) that check room for, add or drop one reference each, and the
 * active tables' COPIED flags set from the refcounts (QEMU's
 * qcow2_update_snapshot_refcount with addend +1, -1 and 0). */
#include "qcow2_snap.h"

#if !HDI_CONFIG_READONLY

static uint64_t rc_max(const struct qcow2 *q)
{
	return q->refcount_bits == 64u ? UINT64_MAX : (1ull << q->refcount_bits) - 1u;
}

static int room(struct qcow2 *q, uint64_t v)
{
	if (v == 0)
		return hdi_qcw_corrupt(q, "referenced cluster has refcount 0");
	if (v == rc_max(q))
		return hdi_qc_err(q, HDI_EINVAL, "a refcount would overflow (refcount_bits too small)");
	return HDI_OK;
}

/* One more reference to cluster ci. */
static int rc_inc(struct qcow2 *q, uint64_t ci)
{
	uint32_t eb = q->rc.slice_bits + 3u - q->refcount_order, i;
	uint64_t rb = 0, bi = ci & ((1ull << q->rb_bits) - 1u), soff, v;
	void *s;
	int r = HDI_OK;
	if ((ci >> q->rb_bits) < q->rt_entries)
		r = hdi_qc_reftable_entry(q, ci >> q->rb_bits, &rb);
	if (r < 0)
		return r;
	if (!rb)
		return hdi_qcw_corrupt(q, "referenced cluster has no refcount block");
	soff = rb + ((bi >> eb) << q->rc.slice_bits);
	i = (uint32_t)(bi & ((1ull << eb) - 1u));
	r = hdi_qc_cache_get(&q->rc, soff, QC_KIND_REFBLOCK, &s);
	if (r < 0)
		return r;
	v = hdi_qc_refcount_ld(q, s, i);
	r = room(q, v);
	if (r == HDI_OK) {
		hdi_qc_refcount_st(q, s, i, v + 1u);
		hdi_qc_cache_mark_dirty(&q->rc, s);
	}
	hdi_qc_cache_put(&q->rc, &s);
	return r;
}

/* Applies op (ROOM, INC or DEC) to the clusters overlapping [off, off+len). */
static int clusters(struct qcow2 *q, enum qs_op op, uint64_t off, uint64_t len)
{
	uint64_t ci = off >> q->cluster_bits, end = (off + len - 1u) >> q->cluster_bits, v;
	int r = HDI_OK;
	/* compressed bytes may run past the end of the file (QEMU rounds
	 * their length up to sectors); refcounts only need the start */
	if (!hdi_qc_in_file(q, off, 1))
		return hdi_qc_err(q, HDI_ECORRUPT, "a table entry points past the end of the file");
	if (op == QS_DEC)
		return hdi_qcw_free_now(q, off, len);
	for (; ci <= end && r == HDI_OK; ci++) {
		if (op == QS_INC) {
			r = rc_inc(q, ci);
		} else {
			r = hdi_qc_refcount_get(q, ci, &v);
			if (r == HDI_OK)
				r = room(q, v);
		}
	}
	return r;
}

/* The COPIED flag entry e should carry for its host cluster's refcount. */
static int want_copied(struct qcow2 *q, uint64_t e, enum qs_op op, uint64_t *ne)
{
	uint64_t v, host = e & QC_L2E_OFFSET_MASK;
	int r;
	*ne = e & ~QC_OFLAG_COPIED;
	if (op != QS_COPIED || !host)
		return HDI_OK;
	r = hdi_qc_refcount_get(q, host >> q->cluster_bits, &v);
	if (r == HDI_OK && v == 1u)
		*ne = e | QC_OFLAG_COPIED;
	return r;
}

static int walk_l2(struct qcow2 *q, uint64_t l2, enum qs_op op, bool active)
{
	uint64_t idx, n = 1ull << q->l2_bits, e, bm, host, bytes, ne;
	int r;
	for (idx = 0; idx < n; idx++) {
		r = hdi_qc_l2_entry(q, l2, idx, &e, &bm);
		if (r < 0)
			return r;
		if (e & QC_OFLAG_COMPRESSED) {
			hdi_qc_compressed_desc(q, e, &host, &bytes);
			if (op != QS_COPIED)
				r = clusters(q, op, host, bytes);
			if (r < 0)
				return r;
			continue;
		}
		host = e & QC_L2E_OFFSET_MASK;
		if (host && op != QS_COPIED)
			r = clusters(q, op, host, q->cluster_size);
		if (r == HDI_OK && active && op != QS_ROOM)
			r = want_copied(q, e, op, &ne);
		if (r == HDI_OK && active && op != QS_ROOM && ne != e)
			r = hdi_qcw_set_l2(q, l2, idx, ne, bm);
		if (r < 0)
			return r;
	}
	return HDI_OK;
}

int hdi_qcs_walk(struct qcow2 *q, uint64_t l1_off, uint32_t l1_size,
		 enum qs_op op, bool active)
{
	struct qc_l1 l1 = { l1_off, l1_size, 0 };
	uint64_t i, e, l2, ne;
	int r;
	for (i = 0; i < l1_size; i++) {
		r = hdi_qc_l1_entry(q, &l1, i, &e);
		if (r == HDI_OK)
			r = hdi_qc_l2_offset(q, e, &l2);
		if (r < 0)
			return r;
		if (!l2)
			continue;
		r = walk_l2(q, l2, op, active);
		if (r == HDI_OK && op != QS_COPIED)
			r = clusters(q, op, l2, q->cluster_size);
		if (r == HDI_OK && active && op != QS_ROOM)
			r = want_copied(q, e, op, &ne);
		if (r == HDI_OK && active && op != QS_ROOM && ne != e)
			r = hdi_qcw_set_l1(q, i, ne);
		if (r < 0)
			return r;
	}
	return HDI_OK;
}

#endif /* !HDI_CONFIG_READONLY */
