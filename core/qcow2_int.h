/* core/qcow2_int.h: the qcow2 driver's internal state (struct qcow2, which
 * lives inside the caller's hdi_qcow2_t) and the internal API of its read
 * side: base helpers, the slice cache, the workspace, table lookups,
 * overlap checks, reading, snapshots. Nothing here knows the write path:
 * it is reached only through the q->rw table a read-write open installs.
 *
 * NAMING CONVENTION: every internal function shared between core files is
 * prefixed hdi_qc_ (so rule 7 holds: every non-static symbol starts with
 * hdi_); types and constants use qc_ / QC_. None of this is in include/:
 * only core/qcow2_*.c may include this header.
 *
 * STABILITY: the write-path and check engineers build on this file. Changes
 * after the first commit are additive only.
 *
 * The layers, bottom up; a file calls only into its own layer or below
 * (host_test/interop/15_layers.sh checks that no two files depend on each
 * other, and docs/architecture.md draws the graph):
 *   qcow2_base.c      errors, file I/O                       (this header)
 *   qcow2_cache.c     the slice cache (hdi_qc_cache_*)       (this header)
 *   qcow2_workspace.c workspace carve-up, borrow, flush      (this header)
 *   qcow2_snapshot.c  snapshot table: list, find, read-only views
 *   qcow2_cluster.c   L1/L2 lookup, subcluster types, refcount reads, overlap
 *   qcow2_read.c      virtual-disk read, the hdi_bdev view, backing, map
 *   qcow2_bitmap.c    bitmap directory listing
 *   qcow2_open.c      header, features, extensions, open/close, info
 *   -- write side, qcow2_wr.h: guard, allocator, table, write, resize
 *   -- check side, qcow2_check_int.h: check, repair, check_rounds
 *   qcow2_rw_hooks.c  the q->rw table, hdi_qcow2_open; qcow2_create.c
 */
#ifndef HDI_QCOW2_INT_H
#define HDI_QCOW2_INT_H

#include "hdi/qcow2.h"
#include "util.h"

/* ---- on-disk constants (docs/interop/qcow2.rst) ------------------------ */
#define QC_MAGIC               0x514649fbu   /* "QFI\xfb" */
#define QC_V2_HEADER_LEN       72u
#define QC_V3_HEADER_MIN       104u
#define QC_HDR_COMPRESSION_OFF 104u          /* compression_type byte */
#define QC_MIN_CLUSTER_BITS    9u
#define QC_MAX_CLUSTER_BITS    21u
#define QC_MAX_REFCOUNT_ORDER  6u

#define QC_EXT_END             0x00000000u
#define QC_EXT_BACKING_FMT     0xe2792acau
#define QC_EXT_FEATURE_TABLE   0x6803f857u
#define QC_EXT_BITMAPS         0x23852875u
#define QC_EXT_CRYPTO          0x0537be77u
#define QC_EXT_DATA_FILE       0x44415441u

#define QC_CRYPT_NONE 0u
#define QC_CRYPT_AES  1u
#define QC_CRYPT_LUKS 2u

#define QC_COMPRESSION_ZLIB 0u
#define QC_COMPRESSION_ZSTD 1u

/* QEMU's limits (block/qcow2.h), so we accept exactly what it accepts. */
#define QC_MAX_L1_BYTES          (32ull << 20)  /* QCOW_MAX_L1_SIZE */
#define QC_MAX_REFTABLE_BYTES    (8ull << 20)   /* QCOW_MAX_REFTABLE_SIZE */
#define QC_MAX_SNAPSHOTS         65536u
#define QC_MAX_SNAPSHOT_EXTRA    1024u
#define QC_MAX_SNAPSHOTS_BYTES   (1024ull * QC_MAX_SNAPSHOTS)
#define QC_SNAPSHOT_HDR_LEN      40u
#define QC_MAX_BITMAPS           65535u
#define QC_MAX_BITMAP_DIR_BYTES  (1024ull * QC_MAX_BITMAPS)
#define QC_MAX_BACKING_NAME      1023u

/* L1 / L2 / refcount-table entry bits. */
#define QC_OFLAG_COPIED     (1ull << 63)
#define QC_OFLAG_COMPRESSED (1ull << 62)
#define QC_OFLAG_ZERO       (1ull << 0)
#define QC_L1E_OFFSET_MASK  0x00fffffffffffe00ull
#define QC_L2E_OFFSET_MASK  0x00fffffffffffe00ull
#define QC_RTE_OFFSET_MASK  0xfffffffffffffe00ull
/* Extended L2 bitmap: bit x = subcluster x allocated, bit 32+x = reads zero */
#define QC_SUB_ALLOC(x)     (1ull << (x))
#define QC_SUB_ZERO(x)      (1ull << (32 + (x)))
#define QC_SUB_ALL_ALLOC    0x00000000ffffffffull
#define QC_SUB_ALL_ZERO     0xffffffff00000000ull
#define QC_EXTL2_SUBCLUSTERS 32u

/* Incompatible bits this driver understands (reads; the write path may
 * refuse more). */
#define QC_INCOMPAT_KNOWN (HDI_QCOW2_INCOMPAT_DIRTY | HDI_QCOW2_INCOMPAT_CORRUPT | \
			   HDI_QCOW2_INCOMPAT_COMPRESSION | HDI_QCOW2_INCOMPAT_EXTL2)

/* ---- the slice cache --------------------------------------------------- *
 * Tables (L1, L2, refcount table, refcount blocks) are cached in slices of
 * slice_size bytes (a power of two, 512..4096, never more than a cluster),
 * so a 16 KiB workspace works at any cluster size. A slice is keyed by its
 * file offset, which must be slice-aligned; a slice never crosses a cluster.
 * Slots are pinned between get and put and are never evicted while pinned.
 */
enum qc_kind {                /* what a slice holds; passed to the hook */
	QC_KIND_L1 = 1,
	QC_KIND_L2 = 2,
	QC_KIND_REFTABLE = 3,
	QC_KIND_REFBLOCK = 4,
	QC_KIND_OTHER = 5     /* snapshot table, bitmap directory, ... */
};

struct qc_slot;              /* private to qcow2_cache.c (lives in workspace) */
struct qcow2;

struct qc_cache {
	struct qcow2 *q;
	struct qc_slot *slots;
	uint32_t *buckets;        /* hash heads, hmask + 1 of them */
	uint8_t *data;            /* nslots * slice_size bytes */
	uint32_t nslots, hmask;
	uint32_t slice_size, slice_bits;
	uint32_t lru_head, lru_tail;   /* head: most recently used */
	uint32_t ndirty;
	uint32_t last;            /* slot of the last hit (fast path) */
	uint64_t tick;
	/* QEMU's qcow2_cache_set_dependency: before any dirty slice of this
	 * cache is written, `depends` is flushed (written back + device
	 * flush). depends_on_flush: flush the device first (QEMU's
	 * qcow2_cache_depends_on_flush). Both are cleared by a flush. */
	struct qc_cache *depends;
	bool depends_on_flush;
};

/* Called before every write of a slice (cache writeback) with its kind,
 * file offset and length; a negative return aborts the write and is passed
 * up. The cache itself checks nothing: the write path installs its overlap
 * check here (q->meta_write_hook). */
typedef int (*qc_meta_write_fn)(struct qcow2 *q, enum qc_kind kind,
				uint64_t off, uint32_t len);

/* ---- a view of an L1 table ------------------------------------------- *
 * Reads go through q->view: the active L1 (q->active) or a snapshot's. */
struct qc_l1 {
	uint64_t offset;          /* file offset of the L1 table */
	uint32_t size;            /* entries */
	uint64_t disk_size;       /* virtual size seen through this L1 */
};

/* ---- what only a read-write open adds ---------------------------------- *
 * The read side never calls the write path, check or repair by name: a
 * read-write open (hdi_qcow2_open with HDI_QCOW2_RDWR) installs this table
 * in q->rw, and only that open links the code behind it. NULL: read-only. */
struct qc_rw_ops {
	/* after the read-only-safe part of the open; a failure fails it */
	int (*open)(struct qcow2 *q);
	/* before the caches are written back (flush, close) */
	int (*flush)(struct qcow2 *q);
	int (*close)(struct qcow2 *q);
	/* a write through the image's hdi_bdev view */
	int (*write)(struct qcow2 *q, uint64_t off, const void *buf, size_t len);
};

/* ---- the state ---------------------------------------------------------- */
#define QC_STATE_MAGIC 0x71633221u
#define QC_ERRBUF 96u

struct qcow2 {
	uint32_t state_magic;     /* QC_STATE_MAGIC while open */
	uint32_t open_flags;      /* HDI_QCOW2_* */
	unsigned depth;           /* chain depth of this image (top = 0) */
	struct hdi_bdev *file;    /* the image file */
	uint64_t file_size;       /* at open; the write path updates it */
	struct hdi_bdev view_dev; /* the virtual disk (hdi_qcow2_bdev) */
	struct hdi_bdev *backing; /* NULL: none (or ignored) */
	/* opts' close_backing and its ctx: called once for backing, whether
	 * the open fails after it was opened or the image is closed */
	void (*close_backing)(void *ctx, struct hdi_bdev *backing);
	void *backing_ctx;
	uint64_t backing_size;

	/* header fields, host byte order, all validated at open */
	uint32_t version;         /* 2 or 3 */
	uint32_t cluster_bits;    /* 9..21 */
	uint32_t cluster_size;
	uint32_t l2_entry_bytes;  /* 8, or 16 with extended L2 */
	uint32_t l2_bits;         /* log2(entries per L2 table) */
	uint32_t subcluster_bits; /* log2(subcluster size) */
	uint32_t subclusters;     /* per cluster: 1, or 32 with extended L2 */
	uint32_t refcount_order;  /* refcount_bits = 1 << order */
	uint32_t refcount_bits;
	uint32_t rb_bits;         /* log2(refcount entries per refcount block) */
	uint32_t crypt_method;
	uint32_t header_length;
	uint32_t compression_type;
	uint64_t size;            /* virtual size: the header's, rounded down
				   * to 512 as QEMU's total_sectors does */
	uint64_t l1_offset;       /* header copy; see also q->active */
	uint32_t l1_size;
	uint64_t rt_offset;       /* refcount table */
	uint32_t rt_clusters;
	uint64_t rt_entries;      /* rt_clusters * cluster_size / 8 */
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint64_t snapshots_bytes; /* size of the table, measured at open */
	uint64_t incompat, compat, autoclear;
	uint64_t backing_name_offset;
	uint32_t backing_name_size;
	char backing_fmt[32];     /* backing format extension, NUL-terminated */
	uint64_t ext_offset, ext_end;   /* header extension area */
	uint64_t feature_table_offset;  /* 0: none */
	uint32_t feature_table_len;
	bool has_bitmaps_ext;     /* extension present and autoclear bit set */
	uint32_t nb_bitmaps;
	uint64_t bitmap_dir_offset, bitmap_dir_size;
	uint32_t data_file_ext;   /* 1 if an external data file name ext exists */

	struct qc_l1 active;      /* the header's L1 (writes go here) */
	struct qc_l1 view;        /* what reads see: active or a snapshot */
	uint32_t view_snapshot;   /* UINT32_MAX: the active disk */

	/* workspace carve-up (hdi_qc_ws_layout) */
	uint8_t *ws;
	size_t ws_size;
	size_t ws_borrowed;       /* tail lent out by hdi_qc_ws_borrow */
	uint8_t *bounce;          /* a granule of the file and of the backing
				   * file (>= 512), for hdi_bdev_pread; the read
				   * path never touches scratch */
	uint8_t *scratch;         /* general buffer, >= 4096 bytes, free use */
	size_t scratch_size;      /* between calls (never held across calls) */
	uint8_t *z_in, *z_out, *z_work;   /* NULL: no room for compressed */
	size_t z_in_size;
	uint64_t z_cached;        /* L2 entry whose cluster is in z_out */
	bool z_valid;
	struct qc_cache l2c;      /* L1 and L2 slices */
	struct qc_cache rc;       /* refcount table slices and refcount blocks */

	qc_meta_write_fn meta_write_hook;   /* NULL: no check */
	const struct qc_rw_ops *rw;         /* NULL: read-only open */
	hdi_qcow2_compress_fn compress;     /* compressed writes (opts) */
	void *compress_ctx;

	/* last snapshot entry located (hdi_qc_snapshot_raw walks from here) */
	uint32_t snap_memo_idx;
	uint64_t snap_memo_off;

	/* The write path's own state: define a struct in your files and
	 * HDI_STATIC_ASSERT(sizeof(yours) <= sizeof(q->rw_priv)). Zeroed at
	 * open before q->rw->open runs. */
	uint64_t rw_priv[32];

	const char *errmsg;       /* static text or errbuf; never NULL */
	char errbuf[QC_ERRBUF];
};

HDI_STATIC_ASSERT(sizeof(struct qcow2) <= sizeof(hdi_qcow2_t), qcow2_state_fits);

static inline struct qcow2 *hdi_qc(hdi_qcow2_t *h) { return (struct qcow2 *)(void *)h; }
static inline const struct qcow2 *hdi_qc_c(const hdi_qcow2_t *h)
{
	return (const struct qcow2 *)(const void *)h;
}

/* ---- small geometry helpers -------------------------------------------- */
static inline uint64_t hdi_qc_offset_in_cluster(const struct qcow2 *q, uint64_t off)
{
	return off & (q->cluster_size - 1u);
}
static inline uint64_t hdi_qc_cluster_start(const struct qcow2 *q, uint64_t off)
{
	return off & ~(uint64_t)(q->cluster_size - 1u);
}
/* Virtual bytes one L2 table maps. */
static inline uint32_t hdi_qc_l1_shift(const struct qcow2 *q)
{
	return q->cluster_bits + q->l2_bits;
}
/* L1 entries needed for a virtual size (QEMU's size_to_l1). */
static inline uint64_t hdi_qc_size_to_l1(const struct qcow2 *q, uint64_t size)
{
	uint32_t s = hdi_qc_l1_shift(q);
	return (size >> s) + ((size & ((1ull << s) - 1u)) != 0);
}

/* ---- errors (qcow2_base.c) --------------------------------------------- */
/* Sets q->errmsg to static text msg and returns code. */
int hdi_qc_err(struct qcow2 *q, int code, const char *msg);
/* Sets errmsg to "<prefix><decimal num><suffix>" (in q->errbuf). */
int hdi_qc_err_num(struct qcow2 *q, int code, const char *prefix,
		   uint64_t num, const char *suffix);
/* Sets errmsg to "<prefix><text of len bytes, sanitized>". */
int hdi_qc_err_str(struct qcow2 *q, int code, const char *prefix,
		   const char *text, size_t len);

/* ---- file access (qcow2_base.c) ------------------------------------------
 * Byte-granular reads/writes of the image file through q->bounce. These
 * pass device errors up unchanged; they do no range checks of their own. */
int hdi_qc_pread(struct qcow2 *q, uint64_t off, void *buf, size_t len);
int hdi_qc_pwrite(struct qcow2 *q, uint64_t off, const void *buf, size_t len);
/* Is [off, off+len) inside the file (as of q->file_size), overflow-safe? */
bool hdi_qc_in_file(const struct qcow2 *q, uint64_t off, uint64_t len);

/* ---- workspace (qcow2_workspace.c) --------------------------------------
 * Lays out bounce, scratch, compressed buffers and both caches over
 * ws[0 .. ws_size - ws_borrowed). Caches must be clean (flushed) and
 * unpinned; their contents are dropped. */
int hdi_qc_ws_layout(struct qcow2 *q);
void hdi_qc_release_backing(struct qcow2 *q);
/* Lends the caller up to `want` bytes at the workspace's tail by shrinking
 * the caches (which are flushed and dropped first; the minimum layout is
 * always kept). area and got receive the region (8-byte aligned). Used by
 * check (refcount arrays) and bulk copies. hdi_qc_ws_return restores. */
int hdi_qc_ws_borrow(struct qcow2 *q, size_t want, void **area, size_t *got);
int hdi_qc_ws_return(struct qcow2 *q);
/* Bytes the layout needs with no compressed support (<= WORKSPACE_MIN). */
size_t hdi_qc_ws_min(const struct qcow2 *q);
/* Writes back both caches; flushes the device if the open is read-write. */
int hdi_qc_caches_flush(struct qcow2 *q);
/* hdi_qcow2_flush without the open check: q->rw->flush, then the caches. */
int hdi_qc_flush(struct qcow2 *q);

/* ---- slice cache (qcow2_cache.c) --------------------------------------- */
/* Sets up a cache over mem (all of it); slice_size power of two. */
int hdi_qc_cache_init(struct qc_cache *c, struct qcow2 *q, void *mem,
		      size_t mem_size, uint32_t slice_size);
/* Pins the slice at file offset off (slice-aligned), reading it from the
 * file if not cached. *data points at slice_size bytes until put. kind is
 * recorded for the write hook. */
int hdi_qc_cache_get(struct qc_cache *c, uint64_t off, enum qc_kind kind,
		     void **data);
/* Like get, but without reading: the slice is about to be overwritten
 * whole (a freshly allocated table). Contents are zeroed. */
int hdi_qc_cache_get_empty(struct qc_cache *c, uint64_t off,
			   enum qc_kind kind, void **data);
/* Unpins; *data is set to NULL. */
void hdi_qc_cache_put(struct qc_cache *c, void **data);
/* Marks the pinned slice containing data dirty. */
void hdi_qc_cache_mark_dirty(struct qc_cache *c, const void *data);
/* Writes back every dirty slice (honouring dependencies), no device flush. */
int hdi_qc_cache_write(struct qc_cache *c);
/* hdi_qc_cache_write, then flush the device. */
int hdi_qc_cache_flush(struct qc_cache *c);
/* Writes back the one dirty slice at off now (if cached and dirty). */
int hdi_qc_cache_write_slice(struct qc_cache *c, uint64_t off);
/* Before writing back any slice of c, flush dep first. Like QEMU, dep is
 * flushed if c already depends on another cache. */
int hdi_qc_cache_set_dependency(struct qc_cache *c, struct qc_cache *dep);
/* Before writing back any slice of c, flush the device first. */
void hdi_qc_cache_depends_on_flush(struct qc_cache *c);
/* Drops every cached slice within [off, off+len) without writing it back
 * (freed clusters: QEMU's qcow2_cache_discard). Must not be pinned. */
void hdi_qc_cache_discard(struct qc_cache *c, uint64_t off, uint64_t len);
/* Drops every clean, unpinned slice. Returns HDI_EBUSY if a slice is dirty
 * or pinned (those are kept). */
int hdi_qc_cache_invalidate(struct qc_cache *c);
/* True if no slice is dirty. */
static inline bool hdi_qc_cache_clean(const struct qc_cache *c) { return c->ndirty == 0; }

/* ---- table access (qcow2_cluster.c) --------------------------------------
 * All offsets here are validated: a table entry that points outside the
 * file, is misaligned, or points at the header / L1 / refcount table gives
 * HDI_ECORRUPT with an errmsg naming the table. */

/* Entry idx of an L1 table (idx < l1->size). */
int hdi_qc_l1_entry(struct qcow2 *q, const struct qc_l1 *l1, uint64_t idx,
		    uint64_t *entry);
/* The L2 table offset an L1 entry points to (0: none), validated. */
int hdi_qc_l2_offset(struct qcow2 *q, uint64_t l1_entry, uint64_t *l2_off);
/* Entry idx of the L2 table at l2_off; *bitmap is the extended-L2 bitmap
 * (0 without extended L2). */
int hdi_qc_l2_entry(struct qcow2 *q, uint64_t l2_off, uint64_t idx,
		    uint64_t *entry, uint64_t *bitmap);

/* Subcluster types, as QEMU's QCow2SubclusterType. */
enum qc_type {
	QC_T_UNALLOC_PLAIN,   /* no host cluster: backing or zeros */
	QC_T_UNALLOC_ALLOC,   /* host cluster exists, subcluster unallocated */
	QC_T_ZERO_PLAIN,      /* reads zeros, no host cluster */
	QC_T_ZERO_ALLOC,      /* reads zeros, host cluster preallocated */
	QC_T_NORMAL,          /* data at host offset */
	QC_T_COMPRESSED,      /* whole cluster compressed */
	QC_T_INVALID          /* both alloc and zero bits: corrupt */
};
/* Type of subcluster sc of an L2 entry (+ bitmap). */
enum qc_type hdi_qc_subcluster_type(const struct qcow2 *q, uint64_t entry,
				    uint64_t bitmap, unsigned sc);

/* A run of the virtual disk with one type and contiguous host offsets. */
struct qc_run {
	enum qc_type type;
	uint64_t len;         /* bytes of the virtual disk */
	uint64_t host;        /* NORMAL/ZERO_ALLOC/UNALLOC_ALLOC: host offset of
			       * the run's first byte; else 0 */
	uint64_t l2_entry;    /* raw L2 entry of the run's first cluster
			       * (COMPRESSED: the descriptor) */
};
/* Describes the run starting at virtual offset voff through L1 view l1,
 * at most max bytes (max > 0, voff < l1->disk_size). Never crosses an L2
 * slice; COMPRESSED runs cover at most one cluster. */
int hdi_qc_lookup(struct qcow2 *q, const struct qc_l1 *l1, uint64_t voff,
		  uint64_t max, struct qc_run *run);
/* Decodes a compressed L2 entry: host byte offset and byte count to read
 * (QEMU: nb_csectors * 512 - (offset & 511)). */
void hdi_qc_compressed_desc(const struct qcow2 *q, uint64_t entry,
			    uint64_t *host, uint64_t *bytes);

/* Refcount of cluster index ci (host offset >> cluster_bits); clusters
 * past the refcount table or in a missing block have refcount 0. */
int hdi_qc_refcount_get(struct qcow2 *q, uint64_t ci, uint64_t *refcount);
/* Refcount entry i of a refcount block slice (raw bytes) / store one. */
uint64_t hdi_qc_refcount_ld(const struct qcow2 *q, const void *slice, uint32_t i);
void hdi_qc_refcount_st(const struct qcow2 *q, void *slice, uint32_t i, uint64_t v);
/* Refcount-table entry i (i < rt_entries): refcount block offset, 0 = none,
 * validated like an L2 offset. */
int hdi_qc_reftable_entry(struct qcow2 *q, uint64_t i, uint64_t *rb_off);

/* Overlap classification (QEMU's qcow2_check_metadata_overlap). */
#define QC_OL_HEADER         0x01u  /* cluster 0 */
#define QC_OL_ACTIVE_L1      0x02u
#define QC_OL_ACTIVE_L2      0x04u  /* walks the active L1 (via cache) */
#define QC_OL_REFCOUNT_TABLE 0x08u
#define QC_OL_REFCOUNT_BLOCK 0x10u  /* walks the refcount table (via cache) */
#define QC_OL_SNAPSHOT_TABLE 0x20u
#define QC_OL_INACTIVE_L1    0x40u  /* snapshot L1 tables (reads the table) */
#define QC_OL_BITMAP_DIR     0x80u
#define QC_OL_CHEAP  (QC_OL_HEADER | QC_OL_ACTIVE_L1 | QC_OL_REFCOUNT_TABLE | \
		      QC_OL_SNAPSHOT_TABLE | QC_OL_BITMAP_DIR)
#define QC_OL_ALL    0xffu
/* Which of the structures in mask overlap [off, off+len); 0 = none.
 * Returns a mask >= 0 or a negative error (I/O while walking tables). */
int hdi_qc_overlap(struct qcow2 *q, uint32_t mask, uint64_t off, uint64_t len);

/* ---- reading (qcow2_read.c) ------------------------------------------- */
/* Sets up q->view_dev (granule 512, size = q->view.disk_size). */
void hdi_qc_view_init(struct qcow2 *q);
/* The view is writable only on the active disk of a read-write open
 * (hdi_qc_view_init does this too; snapshot selection needs only this). */
static inline void hdi_qc_view_flags(struct qcow2 *q)
{
	q->view_dev.flags = (!q->rw || q->view_snapshot != UINT32_MAX) ?
			    HDI_BDEV_RDONLY : 0u;
}
/* Is d the virtual disk of an open qcow2 image (so map can descend)? */
struct qcow2 *hdi_qc_from_bdev(const struct hdi_bdev *d);
/* Reads virtual bytes [off, off+len) through view l1 (any alignment). */
int hdi_qc_read_view(struct qcow2 *q, const struct qc_l1 *l1, uint64_t off,
		     void *buf, size_t len);
/* Forget the cached decompressed cluster (after a write frees or reuses
 * compressed host space). */
static inline void hdi_qc_read_invalidate(struct qcow2 *q) { q->z_valid = false; }

/* ---- snapshots (qcow2_snapshot.c) --------------------------------------- */
/* Validates the snapshot table at open: walks nb_snapshots entries, sets
 * q->snapshots_bytes. */
int hdi_qc_snapshot_scan(struct qcow2 *q);
/* Raw fields of snapshot index i, for check and the write path. */
struct qc_snap_raw {
	uint64_t entry_offset;    /* file offset of the entry */
	uint32_t entry_len;       /* padded length */
	uint64_t l1_offset;
	uint32_t l1_size;
	uint64_t disk_size;       /* from extra data, else the header size */
};
int hdi_qc_snapshot_raw(struct qcow2 *q, uint32_t i, struct qc_snap_raw *out);

/* ---- open (qcow2_open.c) ---------------------------------------------- */
/* hdi_qcow2_open with the table a read-write open installs (NULL: the
 * open refuses HDI_QCOW2_RDWR). */
int hdi_qc_open(hdi_qcow2_t *h, struct hdi_bdev *file,
		const struct hdi_qcow2_opts *o, const struct qc_rw_ops *rw);

#endif
