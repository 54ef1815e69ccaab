/* core/qcow2_check_int.h: the check side's internal API: what the check
 * files share (qcow2_check.c counts references, qcow2_repair.c compares,
 * fixes and rebuilds, qcow2_check_rounds.c runs the rounds): the check
 * context with its window of host clusters; and the two entries the
 * read-write open uses (hdi_qc_check, hdi_qc_repair_dirty). It sits above
 * the read side (qcow2_int.h) and knows nothing of the write path. */
#ifndef HDI_QCOW2_CHECK_INT_H
#define HDI_QCOW2_CHECK_INT_H

#include "qcow2_int.h"

/* What compare_refcounts adds up (kept apart from the counting results,
 * because QEMU may compare twice on one count). */
struct ck_counts {
	uint64_t corruptions, leaks, check_errors;
	uint64_t corruptions_fixed, leaks_fixed;
};

/* QEMU counts references into one in-memory refcount array for the whole
 * file. We count them into a window of it, 2^wbits host clusters starting
 * at w0, stored like a refcount block (same width), and walk every table
 * again for the next window. */
struct ck {
	struct qcow2 *q;
	struct hdi_qcow2_check_result *res;  /* counting results (calculate_refcounts) */
	uint32_t fix;          /* repair flags for the counting walk */
	bool count;            /* count errors found while counting */
	bool first;            /* first window of a round: whole-file errors,
				* fragmentation figures, fixes of L2 entries */
	bool rebuild;          /* the refcount structure must be rebuilt */
	uint8_t *imrt;         /* window counts, refcount-block layout */
	uint64_t w0;           /* first host cluster of the window */
	uint64_t wcap;         /* clusters in a window, 1 << wbits */
	uint32_t wbits;
	uint64_t rc_max;       /* largest refcount the image can store */
	uint64_t file_len;     /* file length the walk measures against */
	uint64_t imrt_size;    /* QEMU's nb_clusters: clusters compared */
	uint64_t highest;      /* highest cluster in use (image end) */
	uint64_t new0, new1;   /* clusters [new0, new1) counted as used once
				* (a refcount structure being rebuilt) */
	uint64_t sn_size;      /* snapshot table bytes as QEMU measures them */
	uint64_t rt_memo_idx;  /* last refcount-table entry read */
	uint64_t rt_memo;
	bool rt_memo_ok;
};

/* QEMU's BDRV_MAX_LENGTH: it fails any request reaching past this. */
#define CK_MAX_LENGTH ((1ull << 63) - (1ull << 30))

static inline bool hdi_qc_ck_reachable(uint64_t off, uint64_t len)
{
	return off <= CK_MAX_LENGTH && len <= CK_MAX_LENGTH - off;
}

/* L2 entry types as QEMU's qcow2_get_cluster_type sees them (extended L2
 * entries are classified by their offset alone). */
enum ck_type { CK_UNALLOC, CK_ZERO_PLAIN, CK_ZERO_ALLOC, CK_NORMAL, CK_COMPRESSED };

static inline enum ck_type hdi_qc_ck_type(const struct qcow2 *q, uint64_t e)
{
	if (e & QC_OFLAG_COMPRESSED)
		return CK_COMPRESSED;
	if ((e & QC_OFLAG_ZERO) && q->subclusters == 1u)
		return (e & QC_L2E_OFFSET_MASK) ? CK_ZERO_ALLOC : CK_ZERO_PLAIN;
	return (e & QC_L2E_OFFSET_MASK) ? CK_NORMAL : CK_UNALLOC;
}

/* ---- qcow2_check.c ------------------------------------------------------ */
/* Points the window at cluster w0 (a multiple of wcap) and zeroes it. */
void hdi_qc_ck_window(struct ck *c, uint64_t w0);
/* One walk over every reference in the image (QEMU's calculate_refcounts),
 * counting those that fall into the window. */
int hdi_qc_ck_calculate(struct ck *c);
/* Measures the snapshot table as QEMU does (c->sn_size) and counts v3
 * entries without the extra data QEMU needs in *incomplete. */
int hdi_qc_ck_snapshot_table(struct ck *c, uint64_t *incomplete);
/* Raw refcount-table entry i (i < rt_entries), through the cache. */
int hdi_qc_ck_rt_entry(struct ck *c, uint64_t i, uint64_t *e);
/* Reads [off, off+len) of the file; bytes past end read as zeros. */
int hdi_qc_ck_pread(struct qcow2 *q, uint64_t end, uint64_t off, void *buf,
		    size_t len);
/* L1 entry at file offset off (8-aligned, in a cluster-aligned table),
 * through the cache; 0 past end. */
int hdi_qc_ck_l1_read(struct qcow2 *q, uint64_t end, uint64_t off, uint64_t *e);

/* ---- qcow2_repair.c ----------------------------------------------------- */
/* Stored refcount of cluster i as QEMU's qcow2_get_refcount reads it:
 * returns 1 when the refcount block pointer is unusable (a check error),
 * a negative code on I/O errors, else 0. */
int hdi_qc_ck_get(struct ck *c, uint64_t i, uint64_t *v);
/* compare_refcounts for the window's clusters. */
int hdi_qc_ck_compare(struct ck *c, uint32_t fix, struct ck_counts *n);
/* check_oflag_copied over the active L1 and its L2 tables. */
int hdi_qc_ck_oflag_copied(struct ck *c, uint32_t fix);
/* rebuild_refcount_structure: new refcount blocks and table after the end
 * of the image, then the header is switched to them. */
int hdi_qc_ck_rebuild(struct ck *c);
/* Clears the dirty and corrupt bits in the header (v3). */
int hdi_qc_ck_mark_clean(struct qcow2 *q);

/* ---- qcow2_check_rounds.c ----------------------------------------------- */
/* QEMU's qcow2_co_check_locked: counts every reference and compares with
 * the stored refcounts (counts as qemu-img check's), repairing what repair
 * (HDI_QCOW2_REPAIR_*) allows; a repair that leaves no corruption clears
 * the dirty and corrupt bits. res->corruptions/leaks are what remains.
 * Borrows the workspace (caches must be unpinned). After a repair the
 * refcount structure may have moved (q->rt_*) and refcounts changed:
 * allocation hints must be reset. */
int hdi_qc_check(struct qcow2 *q, uint32_t repair, struct hdi_qcow2_check_result *res);
/* Repairs a dirty (lazy refcounts) image as QEMU does at a read-write
 * open: hdi_qc_check with HDI_QCOW2_REPAIR_ALL; an error if the check
 * could not run or hit check errors (res.check_errors). */
int hdi_qc_repair_dirty(struct qcow2 *q);

#endif
