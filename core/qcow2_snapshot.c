/* core/qcow2_snapshot.c: the internal snapshot table: validation at open,
 * listing, lookup by id or name, and switching reads to a snapshot's disk
 * (read-only). Creating and deleting snapshots is not done here. */
#include "qcow2_int.h"

#define SN_L1_OFFSET   0
#define SN_L1_SIZE     8
#define SN_ID_SIZE     12
#define SN_NAME_SIZE   14
#define SN_DATE_SEC    16
#define SN_DATE_NSEC   20
#define SN_VM_CLOCK    24
#define SN_VM_STATE    32
#define SN_EXTRA_SIZE  36

struct sn_hdr {
	uint8_t b[QC_SNAPSHOT_HDR_LEN];
	uint32_t extra, id_len, name_len;
	uint32_t used, len;   /* bytes the entry uses; padded to 8 */
};

static int read_hdr(struct qcow2 *q, uint64_t off, struct sn_hdr *h)
{
	int r;
	if (!hdi_qc_in_file(q, off, QC_SNAPSHOT_HDR_LEN))
		return hdi_qc_err(q, HDI_ECORRUPT, "snapshot table runs past the end of the file");
	r = hdi_qc_pread(q, off, h->b, sizeof h->b);
	if (r < 0)
		return r;
	h->extra = hdi_ld_be32(h->b + SN_EXTRA_SIZE);
	h->id_len = hdi_ld_be16(h->b + SN_ID_SIZE);
	h->name_len = hdi_ld_be16(h->b + SN_NAME_SIZE);
	if (h->extra > QC_MAX_SNAPSHOT_EXTRA)
		return hdi_qc_err(q, HDI_ECORRUPT, "too much extra data in a snapshot table entry");
	h->used = QC_SNAPSHOT_HDR_LEN + h->extra + h->id_len + h->name_len;
	h->len = (h->used + 7u) & ~7u;
	return HDI_OK;
}

int hdi_qc_snapshot_scan(struct qcow2 *q)
{
	uint64_t off = q->snapshots_offset, total = 0;
	struct sn_hdr h;
	uint32_t i;
	int r;
	for (i = 0; i < q->nb_snapshots; i++) {
		r = read_hdr(q, off, &h);
		if (r < 0)
			return r;
		total += h.len;
		off += h.len;
		if (total > QC_MAX_SNAPSHOTS_BYTES)
			return hdi_qc_err(q, HDI_ECORRUPT, "snapshot table is too big");
		/* QEMU writes the table unpadded: the file may end mid-padding */
		if (!hdi_qc_in_file(q, off - h.len, h.used))
			return hdi_qc_err(q, HDI_ECORRUPT, "snapshot table runs past the end of the file");
	}
	q->snapshots_bytes = total;
	q->snap_memo_idx = 0;
	q->snap_memo_off = q->snapshots_offset;
	return HDI_OK;
}

/* File offset of entry i; walks on from the last one found. */
static int locate(struct qcow2 *q, uint32_t i, uint64_t *off, struct sn_hdr *h)
{
	uint32_t k = 0;
	uint64_t o = q->snapshots_offset;
	int r;
	if (i >= q->nb_snapshots)
		return HDI_ENOENT;
	if (q->snap_memo_idx <= i && q->snap_memo_off) {
		k = q->snap_memo_idx;
		o = q->snap_memo_off;
	}
	for (;;) {
		r = read_hdr(q, o, h);
		if (r < 0)
			return r;
		if (k == i)
			break;
		o += h->len;
		k++;
	}
	q->snap_memo_idx = i;
	q->snap_memo_off = o;
	*off = o;
	return HDI_OK;
}

static int extra_u64(struct qcow2 *q, uint64_t entry, const struct sn_hdr *h,
		     uint32_t at, uint64_t *v)
{
	uint8_t b[8];
	int r;
	if (h->extra < at + 8u)
		return 0;
	r = hdi_qc_pread(q, entry + QC_SNAPSHOT_HDR_LEN + at, b, 8);
	if (r < 0)
		return r;
	*v = hdi_ld_be64(b);
	return 1;
}

int hdi_qc_snapshot_raw(struct qcow2 *q, uint32_t i, struct qc_snap_raw *out)
{
	struct sn_hdr h;
	uint64_t off;
	int r = locate(q, i, &off, &h);
	if (r < 0)
		return r;
	out->entry_offset = off;
	out->entry_len = h.len;
	out->l1_offset = hdi_ld_be64(h.b + SN_L1_OFFSET);
	out->l1_size = hdi_ld_be32(h.b + SN_L1_SIZE);
	out->disk_size = q->size;   /* old entries lack it: QEMU assumes this */
	r = extra_u64(q, off, &h, 8, &out->disk_size);
	return r < 0 ? r : HDI_OK;
}

/* Copies a length-prefixed string field, truncated to cap - 1 bytes. */
static int copy_field(struct qcow2 *q, uint64_t off, uint32_t len, char *dst,
		      size_t cap)
{
	size_t n = len < cap - 1u ? len : cap - 1u;
	int r = hdi_qc_pread(q, off, dst, n);
	dst[r < 0 ? 0 : n] = 0;
	return r;
}

int hdi_qcow2_snapshot_get(hdi_qcow2_t *hq, uint32_t index,
			   struct hdi_qcow2_snapshot *out)
{
	struct qcow2 *q = hdi_qc(hq);
	struct sn_hdr h;
	uint64_t off, v;
	int r;
	if (!q || q->state_magic != QC_STATE_MAGIC || !out)
		return HDI_EINVAL;
	memset(out, 0, sizeof(*out));
	r = locate(q, index, &off, &h);
	if (r < 0)
		return r;
	out->date_sec = hdi_ld_be32(h.b + SN_DATE_SEC);
	out->date_nsec = hdi_ld_be32(h.b + SN_DATE_NSEC);
	out->vm_clock_nsec = hdi_ld_be64(h.b + SN_VM_CLOCK);
	out->vm_state_size = hdi_ld_be32(h.b + SN_VM_STATE);
	out->disk_size = q->size;
	r = extra_u64(q, off, &h, 0, &v);
	if (r > 0)
		out->vm_state_size = v;
	if (r >= 0)
		r = extra_u64(q, off, &h, 8, &out->disk_size);
	if (r >= 0) {
		r = extra_u64(q, off, &h, 16, &v);
		out->icount_present = r > 0 && v != UINT64_MAX;
		out->icount = out->icount_present ? v : 0;
	}
	off += QC_SNAPSHOT_HDR_LEN + h.extra;
	if (r >= 0)
		r = copy_field(q, off, h.id_len, out->id, sizeof out->id);
	if (r >= 0)
		r = copy_field(q, off + h.id_len, h.name_len, out->name, sizeof out->name);
	return r < 0 ? r : HDI_OK;
}

static size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

/* Does the on-disk field [off, off+len) equal s? Compared in chunks. */
static int field_equals(struct qcow2 *q, uint64_t off, uint32_t len, const char *s)
{
	uint32_t done = 0, n;
	int r;
	if (str_len(s) != len)
		return 0;
	while (done < len) {
		n = (uint32_t)hdi_minsz(len - done, q->scratch_size);
		r = hdi_qc_pread(q, off + done, q->scratch, n);
		if (r < 0)
			return r;
		if (memcmp(q->scratch, s + done, n))
			return 0;
		done += n;
	}
	return 1;
}

/* QEMU's bdrv_snapshot_load_tmp_by_id_or_name: ids first, then names. */
int hdi_qcow2_snapshot_find(hdi_qcow2_t *hq, const char *id_or_name)
{
	struct qcow2 *q = hdi_qc(hq);
	struct sn_hdr h;
	uint64_t off;
	uint32_t i;
	int pass, r;
	if (!q || q->state_magic != QC_STATE_MAGIC || !id_or_name)
		return HDI_EINVAL;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < q->nb_snapshots; i++) {
			r = locate(q, i, &off, &h);
			if (r < 0)
				return r;
			off += QC_SNAPSHOT_HDR_LEN + h.extra;
			if (pass)
				r = field_equals(q, off + h.id_len, h.name_len, id_or_name);
			else
				r = field_equals(q, off, h.id_len, id_or_name);
			if (r < 0)
				return r;
			if (r > 0)
				return (int)i;
		}
	}
	return HDI_ENOENT;
}

int hdi_qcow2_snapshot_select(hdi_qcow2_t *hq, uint32_t index)
{
	struct qcow2 *q = hdi_qc(hq);
	struct qc_snap_raw sn;
	int r;
	if (!q || q->state_magic != QC_STATE_MAGIC)
		return HDI_EINVAL;
	if (index == UINT32_MAX) {
		q->view = q->active;
		q->view_snapshot = UINT32_MAX;
		hdi_qc_view_flags(q);
		return HDI_OK;
	}
	r = hdi_qc_snapshot_raw(q, index, &sn);
	if (r < 0)
		return r;
	if ((uint64_t)sn.l1_size > QC_MAX_L1_BYTES / 8u)
		return hdi_qc_err(q, HDI_ECORRUPT, "snapshot L1 table too large");
	if (sn.l1_size && (hdi_qc_offset_in_cluster(q, sn.l1_offset) ||
			   !hdi_qc_in_file(q, sn.l1_offset, (uint64_t)sn.l1_size * 8u)))
		return hdi_qc_err(q, HDI_ECORRUPT, "invalid snapshot L1 table offset");
	q->view.offset = sn.l1_offset;
	q->view.size = sn.l1_size;
	/* QEMU's qcow2_snapshot_load_tmp (qemu-img convert -l) switches only
	 * the L1 table: the disk keeps the image's current size. */
	q->view.disk_size = q->active.disk_size;
	q->view_snapshot = index;
	hdi_qc_view_flags(q);
	return HDI_OK;
}
