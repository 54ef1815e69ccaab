/* core/qcow2_snap_table.c: rewriting the snapshot table (a new copy with an
 * entry added or removed, published by one header write) and copying L1
 * tables for snapshots. */
#include "qcow2_snap.h"

#if !HDI_CONFIG_READONLY

#define SNE_EXTRA 24u    /* the extra data QEMU 7.2 writes */

static uint32_t entry_len(const struct qs_entry *e)
{
	return (QC_SNAPSHOT_HDR_LEN + SNE_EXTRA + e->id_len + e->name_len + 7u) & ~7u;
}

/* Bytes entry i uses (unpadded) and where it is. */
static int entry_used(struct qcow2 *q, uint32_t i, uint64_t *off, uint32_t *used)
{
	struct qc_snap_raw sr;
	uint8_t h[QC_SNAPSHOT_HDR_LEN];
	int r = hdi_qc_snapshot_raw(q, i, &sr);
	if (r == HDI_OK)
		r = hdi_qc_pread(q, sr.entry_offset, h, sizeof h);
	if (r < 0)
		return r;
	*off = sr.entry_offset;
	*used = QC_SNAPSHOT_HDR_LEN + hdi_ld_be32(h + 36) + hdi_ld_be16(h + 12) +
		hdi_ld_be16(h + 14);
	return HDI_OK;
}

static int write_entry(struct qcow2 *q, uint64_t at, const struct qs_entry *e)
{
	uint8_t b[QC_SNAPSHOT_HDR_LEN + SNE_EXTRA];
	int r;
	memset(b, 0, sizeof b);
	hdi_st_be64(b, e->l1_offset);
	hdi_st_be32(b + 8, e->l1_size);
	hdi_st_be16(b + 12, (uint16_t)e->id_len);
	hdi_st_be16(b + 14, (uint16_t)e->name_len);
	hdi_st_be32(b + 16, e->date_sec);
	hdi_st_be32(b + 20, e->date_nsec);
	hdi_st_be64(b + 24, e->vm_clock_nsec);
	hdi_st_be32(b + 36, SNE_EXTRA);
	hdi_st_be64(b + QC_SNAPSHOT_HDR_LEN + 8, e->disk_size);
	hdi_st_be64(b + QC_SNAPSHOT_HDR_LEN + 16, e->icount);
	r = hdi_qc_pwrite(q, at, b, sizeof b);
	at += sizeof b;
	if (r == HDI_OK)
		r = hdi_qc_pwrite(q, at, e->id, e->id_len);
	if (r == HDI_OK)
		r = hdi_qc_pwrite(q, at + e->id_len, e->name, e->name_len);
	return r;
}

/* Size of the new table. */
static int new_size(struct qcow2 *q, uint32_t skip, const struct qs_entry *add,
		    uint64_t *bytes)
{
	uint32_t i, used;
	uint64_t off;
	int r;
	*bytes = add ? entry_len(add) : 0;
	for (i = 0; i < q->nb_snapshots; i++) {
		if (i == skip)
			continue;
		r = entry_used(q, i, &off, &used);
		if (r < 0)
			return r;
		*bytes += (used + 7u) & ~7u;
	}
	return HDI_OK;
}

/* Fills the new table at t (already zeroed). */
static int fill(struct qcow2 *q, uint64_t t, uint32_t skip, const struct qs_entry *add)
{
	uint32_t i, used;
	uint64_t off;
	int r;
	for (i = 0; i < q->nb_snapshots; i++) {
		if (i == skip)
			continue;
		r = entry_used(q, i, &off, &used);
		if (r == HDI_OK)
			r = hdi_qcw_file_copy(q, t, off, used);
		if (r < 0)
			return r;
		t += (used + 7u) & ~7u;
	}
	return add ? write_entry(q, t, add) : HDI_OK;
}

int hdi_qcs_table_replace(struct qcow2 *q, uint32_t skip,
			  const struct qs_entry *add)
{
	uint64_t bytes, t = 0, got, old = q->snapshots_offset, old_bytes = q->snapshots_bytes;
	uint32_t nb = q->nb_snapshots - (skip != UINT32_MAX) + (add != NULL);
	uint8_t h[12];
	bool fresh;
	int r = new_size(q, skip, add, &bytes);
	if (r == HDI_OK && bytes > QC_MAX_SNAPSHOTS_BYTES)
		r = hdi_qc_err(q, HDI_EINVAL, "snapshot table would be too big");
	if (r == HDI_OK && bytes)
		r = hdi_qcw_alloc(q, (bytes + q->cluster_size - 1u) >> q->cluster_bits,
				  true, &t, &got, &fresh);
	if (r == HDI_OK && bytes && !fresh)
		r = hdi_qcw_zero_fill(q, t, got << q->cluster_bits);
	if (r == HDI_OK && bytes)
		r = fill(q, t, skip, add);
	/* the table and its clusters' refcounts are durable before the
	 * header names it */
	if (r == HDI_OK)
		r = hdi_qc_cache_flush(&q->rc);
	if (r < 0)
		return r;
	hdi_st_be32(h, nb);
	hdi_st_be64(h + 4, t);
	r = hdi_qcw_header_write(q, 60, h, 12);
	if (r < 0)
		return r;
	q->nb_snapshots = nb;
	q->snapshots_offset = t;
	r = hdi_qc_snapshot_scan(q);
	if (r == HDI_OK && old_bytes)
		r = hdi_qcw_free_now(q, old, old_bytes);
	return r;
}

int hdi_qcs_l1_copy(struct qcow2 *q, uint64_t src, uint32_t n, uint32_t size,
		    uint64_t *dst)
{
	struct qc_l1 l1 = { src, n, 0 };
	uint64_t bytes = (uint64_t)size * 8u, got, i, e;
	uint32_t per = (uint32_t)(q->scratch_size >> 3), k;
	bool fresh;
	int r;
	*dst = 0;
	if (!size)
		return HDI_OK;
	r = hdi_qcw_alloc(q, (bytes + q->cluster_size - 1u) >> q->cluster_bits, true,
			  dst, &got, &fresh);
	if (r == HDI_OK && !fresh)
		r = hdi_qcw_zero_fill(q, *dst, got << q->cluster_bits);
	for (i = 0; r == HDI_OK && i < n; i += k) {
		for (k = 0; r == HDI_OK && k < per && i + k < n; k++) {
			r = hdi_qc_l1_entry(q, &l1, i + k, &e);
			hdi_st_be64(q->scratch + k * 8u, e & ~QC_OFLAG_COPIED);
		}
		if (r == HDI_OK)
			r = hdi_qc_pwrite(q, *dst + i * 8u, q->scratch, (size_t)k * 8u);
	}
	return r == HDI_OK ? hdi_qc_cache_flush(&q->rc) : r;
}

#endif /* !HDI_CONFIG_READONLY */
