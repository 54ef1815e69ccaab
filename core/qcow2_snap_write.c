/* core/qcow2_snap_write.c: creating, deleting and applying internal
 * snapshots (qemu-img snapshot -c/-d/-a). Refcounts go up and are flushed
 * before the snapshot table that needs them is published; a removed entry
 * is published before its references are dropped; so a crash only leaks.
 * The COPIED flags cannot change atomically with the refcounts they
 * describe: on v3 the dirty bit covers that window (an image cut inside
 * it is repaired when next opened for writing, by us or QEMU). */
#include "qcow2_snap.h"

#if !HDI_CONFIG_READONLY

#define SN_ID_MAX 9u   /* leading digits of an id parsed: the next id fits 32 bits */

static bool own_dirty(struct qcow2 *q)
{
	return q->version >= 3 && !(hdi_qcw(q)->flags & QW_LAZY);
}

static int set_dirty(struct qcow2 *q, bool on)
{
	uint64_t v = on ? q->incompat | HDI_QCOW2_INCOMPAT_DIRTY
			: q->incompat & ~HDI_QCOW2_INCOMPAT_DIRTY;
	uint8_t b[8];
	int r;
	if (!own_dirty(q))
		return HDI_OK;
	if (!on) {   /* everything the bit covered is on disk first */
		r = hdi_qc_cache_flush(&q->rc);
		if (r == HDI_OK)
			r = hdi_qc_cache_flush(&q->l2c);
		if (r < 0)
			return r;
	}
	hdi_st_be64(b, v);
	r = hdi_qcw_header_write(q, 72, b, 8);
	if (r == HDI_OK)
		q->incompat = v;
	return r;
}

/* Writable, queued frees applied, caches on disk. */
static int start(struct qcow2 *q)
{
	int r = hdi_qcw_begin(q);
	if (r == HDI_OK)
		r = hdi_qcw_apply_frees(q);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->rc);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->l2c);
	return r;
}

static int finish(struct qcow2 *q)
{
	int r = hdi_qc_cache_flush(&q->rc);
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->l2c);
	return r == HDI_OK ? set_dirty(q, false) : r;
}

static size_t slen(const char *s, size_t max)
{
	size_t n = 0;
	while (n <= max && s[n])
		n++;
	return n;
}

/* Entry i's id (as QEMU parses it: leading decimal digits) and whether its
 * name equals name. */
static int entry_id_name(struct qcow2 *q, uint32_t i, const char *name,
			 uint32_t nlen, uint64_t *id, bool *same)
{
	struct qc_snap_raw sr;
	uint8_t h[QC_SNAPSHOT_HDR_LEN], b[64];
	uint32_t idl, nl, k, done;
	uint64_t f;
	int r = hdi_qc_snapshot_raw(q, i, &sr);
	if (r == HDI_OK)
		r = hdi_qc_pread(q, sr.entry_offset, h, sizeof h);
	if (r < 0)
		return r;
	idl = hdi_ld_be16(h + 12);
	nl = hdi_ld_be16(h + 14);
	f = sr.entry_offset + QC_SNAPSHOT_HDR_LEN + hdi_ld_be32(h + 36);
	r = hdi_qc_pread(q, f, b, idl < SN_ID_MAX ? idl : SN_ID_MAX);
	for (*id = 0, k = 0; r == HDI_OK && k < idl && k < SN_ID_MAX &&
	     b[k] >= '0' && b[k] <= '9'; k++)
		*id = *id * 10u + (b[k] - '0');
	*same = nl == nlen;
	for (done = 0, f += idl; r == HDI_OK && *same && done < nl; done += k) {
		k = nl - done < sizeof b ? nl - done : (uint32_t)sizeof b;
		r = hdi_qc_pread(q, f + done, b, k);
		*same = r == HDI_OK && !memcmp(b, name + done, k);
	}
	return r;
}

/* v in decimal (32-bit: no 64-bit division in freestanding builds). */
static uint32_t dec(uint32_t v, char *out)
{
	char t[10];
	uint32_t n = 0, i;
	do {
		t[n++] = (char)('0' + v % 10u);
		v /= 10u;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = t[n - 1u - i];
	return n;
}

/* The next id (QEMU's find_new_snapshot_id), in id[]; refuses a name in
 * use. */
static int new_id(struct qcow2 *q, const char *name, uint32_t nlen, char *id,
		  uint32_t *idl)
{
	uint64_t max = 0, v;
	uint32_t i;
	bool same;
	int r;
	for (i = 0; i < q->nb_snapshots; i++) {
		r = entry_id_name(q, i, name, nlen, &v, &same);
		if (r < 0)
			return r;
		if (same)
			return hdi_qc_err(q, HDI_EINVAL, "a snapshot with this name exists");
		if (v > max)
			max = v;
	}
	*idl = dec((uint32_t)max + 1u, id);
	return HDI_OK;
}

int hdi_qcow2_snapshot_create(hdi_qcow2_t *h, const struct hdi_qcow2_snapshot *sn)
{
	struct qcow2 *q = hdi_qc(h);
	struct qs_entry e;
	char id[12];
	size_t nlen;
	int r;
	r = sn ? start(q) : HDI_EINVAL;
	if (r < 0)
		return r;
	nlen = slen(sn->name, sizeof sn->name - 1u);
	if (nlen == 0 || nlen >= sizeof sn->name)
		return hdi_qc_err(q, HDI_EINVAL, "a snapshot name is 1 to 1023 bytes");
	if (r == HDI_OK && q->nb_snapshots >= QC_MAX_SNAPSHOTS)
		r = hdi_qc_err(q, HDI_EINVAL, "too many snapshots");
	memset(&e, 0, sizeof e);
	if (r == HDI_OK)
		r = new_id(q, sn->name, (uint32_t)nlen, id, &e.id_len);
	if (r == HDI_OK)
		r = hdi_qcs_walk(q, q->active.offset, q->active.size, QS_ROOM, false);
	if (r == HDI_OK)
		r = set_dirty(q, true);
	if (r == HDI_OK)
		r = hdi_qcs_walk(q, q->active.offset, q->active.size, QS_INC, true);
	if (r == HDI_OK)
		r = finish(q);
	if (r == HDI_OK)
		r = hdi_qcs_l1_copy(q, q->active.offset, q->active.size,
				    q->active.size, &e.l1_offset);
	if (r < 0)
		return r;
	e.l1_size = q->active.size;
	e.date_sec = (uint32_t)sn->date_sec;
	e.date_nsec = sn->date_nsec;
	e.vm_clock_nsec = sn->vm_clock_nsec;
	e.disk_size = q->size;
	e.icount = sn->icount_present ? sn->icount : UINT64_MAX;
	e.id = id;
	e.name = sn->name;
	e.name_len = (uint32_t)nlen;
	return hdi_qcs_table_replace(q, UINT32_MAX, &e);
}

/* The snapshot's L1 table, validated as the read path does. */
static int sn_l1(struct qcow2 *q, uint32_t index, struct qc_snap_raw *sr)
{
	int r = hdi_qc_snapshot_raw(q, index, sr);
	if (r < 0)
		return r == HDI_ENOENT ? hdi_qc_err(q, r, "no such snapshot") : r;
	if ((uint64_t)sr->l1_size > QC_MAX_L1_BYTES / 8u)
		return hdi_qc_err(q, HDI_ECORRUPT, "snapshot L1 table too large");
	if (sr->l1_size && (hdi_qc_offset_in_cluster(q, sr->l1_offset) ||
			    !hdi_qc_in_file(q, sr->l1_offset, (uint64_t)sr->l1_size * 8u)))
		return hdi_qc_err(q, HDI_ECORRUPT, "invalid snapshot L1 table offset");
	return HDI_OK;
}

int hdi_qcow2_snapshot_delete(hdi_qcow2_t *h, uint32_t index)
{
	struct qcow2 *q = hdi_qc(h);
	struct qc_snap_raw sr;
	int r = start(q);
	if (r == HDI_OK)
		r = sn_l1(q, index, &sr);
	/* the entry goes first: from then on nothing reaches its L1 */
	if (r == HDI_OK)
		r = hdi_qcs_table_replace(q, index, NULL);
	if (r == HDI_OK)
		r = set_dirty(q, true);
	if (r == HDI_OK)
		r = hdi_qcs_walk(q, sr.l1_offset, sr.l1_size, QS_DEC, false);
	if (r == HDI_OK && sr.l1_size)
		r = hdi_qcw_free_now(q, sr.l1_offset, (uint64_t)sr.l1_size * 8u);
	if (r == HDI_OK)
		r = hdi_qcs_walk(q, q->active.offset, q->active.size, QS_COPIED, true);
	return r == HDI_OK ? finish(q) : r;
}

/* The header switches to the new active L1 (and size) in one write. */
static int switch_l1(struct qcow2 *q, uint64_t l1, uint32_t n, uint64_t size)
{
	uint8_t b[24];
	int r;
	hdi_st_be64(b, size);
	hdi_st_be32(b + 8, q->crypt_method);
	hdi_st_be32(b + 12, n);
	hdi_st_be64(b + 16, l1);
	r = hdi_qcw_header_write(q, 24, b, sizeof b);
	if (r < 0)
		return r;
	q->l1_offset = q->active.offset = l1;
	q->l1_size = q->active.size = n;
	q->size = q->active.disk_size = size;
	if (q->view_snapshot == UINT32_MAX) {
		q->view = q->active;
		hdi_qc_view_init(q);
	}
	return hdi_qcw_scan_tables(q);
}

int hdi_qcow2_snapshot_apply(hdi_qcow2_t *h, uint32_t index)
{
	struct qcow2 *q = hdi_qc(h);
	struct qc_snap_raw sr;
	struct qc_l1 old;
	uint64_t l1, n;
	int r = start(q);
	if (r == HDI_OK)
		r = sn_l1(q, index, &sr);
	if (r < 0)
		return r;
	old = q->active;
	n = hdi_max64(hdi_max64(old.size, sr.l1_size), hdi_qc_size_to_l1(q, sr.disk_size));
	if (n > QC_MAX_L1_BYTES / 8u || (sr.disk_size & 511u))
		return hdi_qc_err(q, HDI_ECORRUPT, "invalid snapshot disk size");
	r = hdi_qcs_walk(q, sr.l1_offset, sr.l1_size, QS_ROOM, false);
	if (r == HDI_OK)
		r = set_dirty(q, true);
	if (r == HDI_OK)
		r = hdi_qcs_walk(q, sr.l1_offset, sr.l1_size, QS_INC, false);
	if (r == HDI_OK)
		r = hdi_qcs_l1_copy(q, sr.l1_offset, sr.l1_size, (uint32_t)n, &l1);
	if (r == HDI_OK)
		r = switch_l1(q, l1, (uint32_t)n, sr.disk_size);
	if (r == HDI_OK)
		r = hdi_qcs_walk(q, old.offset, old.size, QS_DEC, false);
	if (r == HDI_OK && old.size)
		r = hdi_qcw_free_now(q, old.offset, (uint64_t)old.size * 8u);
	if (r == HDI_OK)
		r = hdi_qcs_walk(q, q->active.offset, q->active.size, QS_COPIED, true);
	return r == HDI_OK ? finish(q) : r;
}

#endif /* !HDI_CONFIG_READONLY */
