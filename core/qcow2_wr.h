/* core/qcow2_wr.h: the qcow2 write path's own internal API and state (in
 * q->rw_priv), shared by its files, bottom up: qcow2_meta.c (metadata
 * writes, no allocation), qcow2_allocator.c, qcow2_table.c, qcow2_write.c,
 * qcow2_resize.c; qcow2_rw_hooks.c installs it at a read-write open. It
 * sits above the read side (qcow2_int.h), which never includes it.
 *
 * The crash-safety rule every function here keeps (QEMU's): a cluster's
 * on-disk refcount is never below its number of on-disk references.
 *  - allocation raises the refcount in the refcount cache and makes the
 *    L2 cache depend on it, so the refcount reaches the disk (and a device
 *    flush) before any L1/L2 slice that uses the cluster;
 *  - a new or copied table is written and flushed before the entry that
 *    points at it (hdi_qc_cache_depends_on_flush);
 *  - frees are queued (hdi_qcw_free_later) and applied only after the L2
 *    cache holding the dropped references has been flushed. */
#ifndef HDI_QCOW2_WR_H
#define HDI_QCOW2_WR_H

#include "qcow2_int.h"

#define QW_PEND 8u

struct qw_range { uint64_t off, len; };

struct qc_wr {
	uint64_t free_hint;      /* allocator cursor: no free cluster below it */
	uint64_t rt_used;        /* refcount-table entries up to the last used */
	uint64_t l1_used;        /* active L1 entries up to the last used */
	uint64_t free_byte;      /* next free byte in the host cluster that
				  * compressed clusters are packed into
				  * (0: none; QEMU's free_byte_offset) */
	uint32_t flags;          /* QW_* */
	uint32_t npend;
	struct qw_range pend[QW_PEND];   /* frees waiting for an L2 flush */
};

#define QW_READY        0x01u  /* hdi_qc_rw_open succeeded */
#define QW_CORRUPT      0x02u  /* corrupt bit seen or set: writes refused */
#define QW_LAZY         0x04u  /* lazy refcounts: the dirty bit guards */
#define QW_DIRTY_SET    0x08u  /* we set the dirty bit on disk */
#define QW_NEED_REPAIR  0x10u  /* dirty image opened with NO_REPAIR */

HDI_STATIC_ASSERT(sizeof(struct qc_wr) <= sizeof(((struct qcow2 *)0)->rw_priv),
		  qc_wr_fits_rw_priv);

static inline struct qc_wr *hdi_qcw(struct qcow2 *q)
{
	return (struct qc_wr *)(void *)q->rw_priv;
}

/* ---- qcow2_meta.c --------------------------------------------------------- */
/* May this open image be written now? Sets the lazy-refcounts dirty bit
 * before the first change. */
int hdi_qcw_begin(struct qcow2 *q);
/* Sets the corrupt bit (v3) and refuses further writes; returns ECORRUPT. */
int hdi_qcw_corrupt(struct qcow2 *q, const char *msg);
/* Overlap check of a write to [off, off+len) against the structures in
 * mask; a hit marks the image corrupt. Refcount blocks and active L2
 * tables are found by walking the refcount table (to its last used entry)
 * and the active L1 a slice at a time. */
int hdi_qcw_check(struct qcow2 *q, uint32_t mask, uint64_t off, uint64_t len);
/* What data and newly allocated clusters are checked against. */
#define QW_OL_DATA (QC_OL_CHEAP | QC_OL_ACTIVE_L2 | QC_OL_REFCOUNT_BLOCK)
/* Finds rt_used and l1_used (at open). */
int hdi_qcw_scan_tables(struct qcow2 *q);
/* Longest table the per-write walks go through (64 KiB of entries);
 * beyond it (huge disks with tiny clusters) those two checks are skipped
 * and the refcount-0 rule of the allocator is what guards. */
#define QW_WALK_MAX 8192u
/* The cache's write hook: every metadata slice is overlap-checked. */
int hdi_qcw_meta_hook(struct qcow2 *q, enum qc_kind kind, uint64_t off,
		      uint32_t len);
/* Writes header bytes [off, off+len) and flushes the device. */
int hdi_qcw_header_write(struct qcow2 *q, uint32_t off, const void *buf,
			 uint32_t len);
/* Writes zeros over [off, off+len) of the file (through q->scratch). */
int hdi_qcw_zero_fill(struct qcow2 *q, uint64_t off, uint64_t len);
/* Sets active L1 entry idx (through the cache). */
int hdi_qcw_set_l1(struct qcow2 *q, uint64_t idx, uint64_t entry);
/* Sets L2 entry idx (and its bitmap with extended L2) of table l2_off. */
int hdi_qcw_set_l2(struct qcow2 *q, uint64_t l2_off, uint64_t idx,
		   uint64_t entry, uint64_t bitmap);

/* ---- qcow2_allocator.c ---------------------------------------------------- */
/* Allocates up to n contiguous clusters (exactly n if exact), with
 * refcount 1, and makes room in the file. *off is the byte offset, *got
 * the count, *fresh whether they read as zeros (new file space). */
int hdi_qcw_alloc(struct qcow2 *q, uint64_t n, bool exact, uint64_t *off,
		  uint64_t *got, bool *fresh);
/* One more reference to cluster ci, which is in use (compressed clusters
 * sharing a host cluster); the L2 cache then depends on the refcount. */
int hdi_qcw_ref(struct qcow2 *q, uint64_t ci);
/* Copies len bytes of the image file from src to dst through scratch
 * (a table moving to a bigger home). */
int hdi_qcw_file_copy(struct qcow2 *q, uint64_t dst, uint64_t src, uint64_t len);
/* Drops one reference from each cluster overlapping [off, off+len), once
 * the references are gone from the disk (queued until then). */
int hdi_qcw_free_later(struct qcow2 *q, uint64_t off, uint64_t len);
/* Same, now: the caller guarantees no on-disk reference remains. */
int hdi_qcw_free_now(struct qcow2 *q, uint64_t off, uint64_t len);
/* Applies queued frees (after flushing the L2 cache unless lazy). */
int hdi_qcw_apply_frees(struct qcow2 *q);
/* Makes the file at least off+len bytes; *fresh tells whether all of
 * [off, off+len) lies in space the grow just added (reads as zeros). */
int hdi_qcw_make_room(struct qcow2 *q, uint64_t off, uint64_t len, bool *fresh);

/* ---- qcow2_table.c -------------------------------------------------------- */
/* Queues the free of whatever host space an L2 entry held (a data
 * cluster, or the bytes of a compressed cluster). */
int hdi_qcw_release(struct qcow2 *q, uint64_t entry);
/* The L2 table mapping voff, allocated or copied so that this image alone
 * owns it (refcount 1, COPIED in L1). */
int hdi_qcw_l2_for_write(struct qcow2 *q, uint64_t voff, uint64_t *l2_off);
/* Grows the active L1 table to at least entries entries (moves it). */
int hdi_qcw_l1_grow(struct qcow2 *q, uint64_t entries);

/* ---- qcow2_write.c -------------------------------------------------------- */
/* Zeroes or discards [off, off+len) of the virtual disk (any alignment);
 * discard frees clusters, write-zeroes uses the zero flag on v3. */
int hdi_qcw_zero_range(struct qcow2 *q, uint64_t off, uint64_t len,
		       bool discard);
/* Allocates every cluster of the disk (preallocation=metadata). */
int hdi_qcw_preallocate(struct qcow2 *q);
/* Drops every cluster from cluster-aligned voff to the end of the L1
 * table's reach (shrink). */
int hdi_qcw_drop_tail(struct qcow2 *q, uint64_t voff);

/* ---- qcow2_rw_hooks.c ----------------------------------------------------- */
/* Rewrites the header extensions without the one of type drop (0: none)
 * and with the given autoclear bits; flushes. */
int hdi_qcw_rewrite_header(struct qcow2 *q, uint32_t drop, uint64_t autoclear);
/* The q->rw table's entries: hdi_qc_rw_open runs after the read-only-safe
 * part of a read-write open (repairs a dirty image, drops bitmaps and
 * unknown autoclear bits); flush and close apply queued frees, close also
 * clears the lazy-refcounts dirty bit. */
int hdi_qc_rw_open(struct qcow2 *q);
int hdi_qc_rw_flush(struct qcow2 *q);
int hdi_qc_rw_close(struct qcow2 *q);

#endif
