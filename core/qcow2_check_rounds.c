/* core/qcow2_check_rounds.c: qemu-img check for qcow2 as QEMU runs it:
 * the rounds of qcow2_check_refcounts (count, compare, repair or rebuild,
 * recount) over the counting walk (qcow2_check.c) and the repairs
 * (qcow2_repair.c); the public check and the repair of a dirty image. */
#include "qcow2_check_int.h"

#if !HDI_CONFIG_READONLY

#define MIN_WINDOW_BITS 6u   /* 64 entries: whole bytes at any width */

static uint64_t clusters(const struct qcow2 *q, uint64_t bytes)
{
	return (bytes >> q->cluster_bits) + ((bytes & (q->cluster_size - 1u)) != 0);
}

/* ---- rounds ------------------------------------------------------------------- */
static void add_counts(struct hdi_qcow2_check_result *res, const struct ck_counts *n)
{
	res->corruptions += n->corruptions;
	res->leaks += n->leaks;
	res->check_errors += n->check_errors;
	res->corruptions_fixed += n->corruptions_fixed;
	res->leaks_fixed += n->leaks_fixed;
}

/* Counts every window (repairing L2 entries with calc_fix), comparing each
 * with the stored refcounts unless cmp_fix < 0. */
static int round_run(struct ck *c, uint32_t calc_fix, bool count, int cmp_fix,
		     struct ck_counts *n)
{
	struct qcow2 *q = c->q;
	uint64_t k, w0;
	int r;
	c->fix = calc_fix;
	c->count = count;
	c->file_len = q->file_size;
	c->imrt_size = clusters(q, q->file_size);
	if (cmp_fix >= 0)
		c->highest = 0;
	for (k = 0;; k++) {
		w0 = k << c->wbits;
		if (k && w0 >= c->imrt_size)
			break;
		hdi_qc_ck_window(c, w0);
		c->first = k == 0;
		r = hdi_qc_ck_calculate(c);
		if (r == HDI_OK && cmp_fix >= 0)
			r = hdi_qc_ck_compare(c, (uint32_t)cmp_fix, n);
		if (r < 0)
			return r;
	}
	return HDI_OK;
}

static int rebuild_round(struct ck *c, uint32_t fix)
{
	struct hdi_qcow2_check_result *res = c->res;
	struct ck_counts fresh;
	uint64_t old_corr = res->corruptions, old_leaks = res->leaks;
	int r = hdi_qc_ck_rebuild(c);
	if (r < 0) {
		res->check_errors++;
		return r;
	}
	/* the old structure is now leaked; recount against the new one */
	res->corruptions = 0;
	res->leaks = 0;
	c->rebuild = false;
	memset(&fresh, 0, sizeof fresh);
	r = round_run(c, 0, true, (fix & HDI_QCOW2_REPAIR_LEAKS) ?
		      (int)HDI_QCOW2_REPAIR_LEAKS : -1, &fresh);
	if (r < 0)
		return r;
	if (res->corruptions < old_corr)
		res->corruptions_fixed += old_corr - res->corruptions;
	if (res->leaks < old_leaks)
		res->leaks_fixed += old_leaks - res->leaks;
	res->leaks += fresh.leaks;   /* leaks the rebuild could not free */
	return HDI_OK;
}

/* QEMU's qcow2_check_refcounts, without the final OFLAG_COPIED pass. */
static int check_refcounts(struct ck *c, uint32_t fix)
{
	struct hdi_qcow2_check_result *res = c->res;
	struct ck_counts n;
	int r;
	memset(&n, 0, sizeof n);
	r = round_run(c, fix, true, 0, &n);
	if (r < 0) {
		add_counts(res, &n);
		return r;
	}
	if (c->rebuild && (fix & HDI_QCOW2_REPAIR_ERRORS)) {
		add_counts(res, &n);
		return rebuild_round(c, fix);
	}
	if (fix && c->rebuild) {
		add_counts(res, &n);
		res->check_errors++;
		return hdi_qc_err(c->q, HDI_ECORRUPT,
				  "the refcount structure needs to be rebuilt (repair all)");
	}
	if (fix && (res->leaks + n.leaks || res->corruptions + n.corruptions)) {
		/* compare again, repairing this time */
		memset(&n, 0, sizeof n);
		r = round_run(c, 0, false, (int)fix, &n);
	}
	add_counts(res, &n);
	return r;
}

static int ck_setup(struct ck *c, struct qcow2 *q, struct hdi_qcow2_check_result *res)
{
	uint64_t want = clusters(q, q->file_size) + 64u, bytes;
	uint32_t bits = MIN_WINDOW_BITS;
	size_t got;
	void *area;
	int r;
	memset(c, 0, sizeof(*c));
	c->q = q;
	c->res = res;
	c->rc_max = q->refcount_bits == 64u ? UINT64_MAX
					    : (1ull << q->refcount_bits) - 1u;
	while (bits < 31u && (1ull << bits) < want)   /* 32-bit indexes */
		bits++;
	bytes = ((1ull << bits) << q->refcount_order) >> 3;
	if (bytes > (SIZE_MAX >> 1))
		bytes = SIZE_MAX >> 1;
	r = hdi_qc_ws_borrow(q, (size_t)bytes, &area, &got);
	if (r < 0)
		return r;
	while (bits > MIN_WINDOW_BITS && (((1ull << bits) << q->refcount_order) >> 3) > got)
		bits--;
	if ((((1ull << bits) << q->refcount_order) >> 3) > got) {
		hdi_qc_ws_return(q);
		return hdi_qc_err(q, HDI_ENOMEM, "workspace too small to check the image");
	}
	c->imrt = area;
	c->wbits = bits;
	c->wcap = 1ull << bits;
	return HDI_OK;
}

/* Writes back what repairs left in the caches and makes it durable. */
static int ck_flush(struct qcow2 *q)
{
	int r = hdi_qc_cache_write(&q->rc);
	if (r == HDI_OK)
		r = hdi_qc_cache_write(&q->l2c);
	if (r == HDI_OK)
		r = hdi_bdev_flush(q->file);
	return r;
}

int hdi_qc_check(struct qcow2 *q, uint32_t fix, struct hdi_qcow2_check_result *res)
{
	struct ck c;
	uint64_t nb = clusters(q, q->file_size), sn_bad;
	int r, r2;
	memset(res, 0, sizeof(*res));
	if (nb > INT32_MAX) {   /* QEMU's limit too */
		res->check_errors++;
		return hdi_qc_err(q, HDI_EUNSUPP, "image file too large to check");
	}
	res->total_clusters = clusters(q, q->size);
	r = ck_setup(&c, q, res);
	if (r < 0) {
		res->check_errors++;
		return r;
	}
	r = hdi_qc_ck_snapshot_table(&c, &sn_bad);
	if (r < 0) {
		res->check_errors++;
		hdi_qc_ws_return(q);
		return r;
	}
	r = check_refcounts(&c, fix);
	r2 = hdi_qc_ws_return(q);
	if (r == HDI_OK)
		r = r2;
	/* fixed refcounts reach the disk before any COPIED flag relies on them */
	if (r == HDI_OK && fix)
		r = ck_flush(q);
	if (r == HDI_OK)
		r = hdi_qc_ck_oflag_copied(&c, fix);
	if (r == HDI_OK)
		res->image_end_offset = (c.highest + 1u) << q->cluster_bits;
	res->corruptions += sn_bad;
	if (r == HDI_OK && fix && !res->check_errors && !res->corruptions)
		r = hdi_qc_ck_mark_clean(q);
	if (fix) {
		r2 = ck_flush(q);
		if (r == HDI_OK)
			r = r2;
	}
	return r;
}

int hdi_qc_repair_dirty(struct qcow2 *q)
{
	struct hdi_qcow2_check_result res;
	int r = hdi_qc_check(q, HDI_QCOW2_REPAIR_ALL, &res);
	if (r < 0)
		return r;
	if (res.check_errors)
		return hdi_qc_err(q, HDI_ECORRUPT,
				  "could not repair the refcounts of the dirty image");
	return HDI_OK;
}

int hdi_qcow2_check(hdi_qcow2_t *h, uint32_t repair, struct hdi_qcow2_check_result *out)
{
	struct qcow2 *q = hdi_qc(h);
	if (!q || q->state_magic != QC_STATE_MAGIC || !out ||
	    (repair & ~(uint32_t)HDI_QCOW2_REPAIR_ALL))
		return HDI_EINVAL;
	if (repair && (q->file->flags & HDI_BDEV_RDONLY))
		return hdi_qc_err(q, HDI_EROFS, "repair needs a writable image file");
	if (q->open_flags & HDI_QCOW2_RDWR) {
		/* frees the write path still holds back would be freed twice */
		int r = hdi_qcow2_flush(h);
		if (r < 0)
			return r;
	}
	return hdi_qc_check(q, repair, out);
}

#endif /* !HDI_CONFIG_READONLY */
