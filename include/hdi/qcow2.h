/* hdi/qcow2.h: the qcow2 image format: open, read, write, create, check.
 * An open image is itself an hdi_bdev (its virtual disk). No allocation:
 * the caller provides the state (hdi_qcow2_t) and a workspace.
 *
 * Concurrency: no two calls on one handle (hdi_qcow2_t, its image device
 * and the partitions on it) may overlap, not even two reads: reads fill the
 * metadata caches. Serialize them with your own lock. Different handles
 * share nothing and may run at once on different threads, as long as no
 * two of them write one image (several read-only opens of one backing file
 * are fine). */
#ifndef HDI_QCOW2_H
#define HDI_QCOW2_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "config.h"
#include "bdev.h"

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__) && defined(__ELF__)
/* Only what these headers declare is the library's interface: core is
 * compiled with -fvisibility=hidden, so everything else stays internal. */
#pragma GCC visibility push(default)
#endif

/* Opaque state; the core checks at compile time that its layout fits. */
#define HDI_QCOW2_STATE_SIZE 2048u
typedef struct { uint64_t opaque_[HDI_QCOW2_STATE_SIZE / 8]; } hdi_qcow2_t;

/* Minimum workspace for every operation on images without compressed
 * clusters, whatever the cluster size. More workspace = bigger caches. */
#define HDI_QCOW2_WORKSPACE_MIN 16384u
/* Workspace that also reads compressed clusters (zlib or zstd) of the
 * given size: the compressed bytes (up to 2 clusters, as the L2 descriptor
 * allows), one decompressed cluster and the inflate or zstd tables (16 KiB).
 * A smaller workspace still opens such images; reading a compressed
 * cluster then fails with HDI_ENOMEM. */
#define HDI_QCOW2_WORKSPACE_COMPRESSED(cluster_size) \
	(HDI_QCOW2_WORKSPACE_MIN + 3u * (size_t)(cluster_size) + 16384u)

#define HDI_QCOW2_MAX_CHAIN 16u          /* backing chain depth cap */
/* backing file name, snapshot and bitmap names, NUL included (hdi/config.h) */
#define HDI_QCOW2_NAME_MAX (HDI_CONFIG_NAME_MAX + 0u)

/* Open flags */
#define HDI_QCOW2_RDWR        0x1u
#define HDI_QCOW2_NO_BACKING  0x2u  /* read unallocated as zero, ignore backing */
#define HDI_QCOW2_NO_REPAIR   0x4u  /* rdwr open of a dirty image: don't repair */

/* Resolve and open a backing file. name is the raw name stored in the image
 * (not NUL-terminated in the image; here it is NUL-terminated), fmt is the
 * backing format extension ("" if absent). depth is the depth of the image
 * being opened (the top image is depth 0). On success *out is a device the
 * core reads through (for a qcow2 backing file, the caller opens it with
 * hdi_qcow2_open, passing depth + 1, and returns hdi_qcow2_bdev()). */
typedef int (*hdi_qcow2_backing_fn)(void *ctx, const char *name,
				    const char *fmt, unsigned depth,
				    struct hdi_bdev **out);
/* Gives back a device open_backing returned with HDI_OK (close the backing
 * image and its file here). Called exactly once for each: when the image
 * it backs is closed, and also when that image's open fails after its
 * backing was opened, so a chain that fails half-way leaks nothing. A
 * failing open_backing cleans up after itself: nothing was returned. */
typedef void (*hdi_qcow2_backing_close_fn)(void *ctx, struct hdi_bdev *backing);

/* A compressor for compressed writes. The core has none of its own (the
 * kernel build stays free of dependencies); the host tool passes zlib's or
 * libzstd's. type is the image's compression type (HDI_QCOW2_COMPRESSION_*:
 * zlib is raw deflate with a 4 KiB window, zstd one or more frames).
 * Compresses src_len bytes into dst (dst_cap bytes) and sets *dst_len.
 * Returns HDI_OK, HDI_ENOSPC if the result would not fit in dst_cap (the
 * data is then stored uncompressed), or another negative code. */
typedef int (*hdi_qcow2_compress_fn)(void *ctx, uint32_t type, void *dst,
				     size_t dst_cap, size_t *dst_len,
				     const void *src, size_t src_len);
#define HDI_QCOW2_COMPRESSION_ZLIB 0u
#define HDI_QCOW2_COMPRESSION_ZSTD 1u

struct hdi_qcow2_opts {
	uint32_t flags;
	void *workspace;
	size_t workspace_size;
	hdi_qcow2_backing_fn open_backing;   /* NULL: backing refused (EUNSUPP) */
	void *backing_ctx;                   /* for both backing callbacks */
	unsigned depth;                      /* 0 for the top image */
	hdi_qcow2_compress_fn compress;      /* NULL: hdi_qcow2_write_compressed
					      * refused (EUNSUPP) */
	void *compress_ctx;
	hdi_qcow2_backing_close_fn close_backing; /* NULL: the caller keeps
					      * track of backing devices */
};

/* Opens an image, read-write if opts->flags has HDI_QCOW2_RDWR. This
 * entry links the write path, check and repair (a read-write open may
 * repair a dirty image). */
int hdi_qcow2_open(hdi_qcow2_t *q, struct hdi_bdev *file,
		   const struct hdi_qcow2_opts *opts);
/* The same open for readers: it links no write, check or repair code and
 * refuses HDI_QCOW2_RDWR with HDI_EROFS. A bootloader calls this one. */
int hdi_qcow2_open_ro(hdi_qcow2_t *q, struct hdi_bdev *file,
		      const struct hdi_qcow2_opts *opts);
/* Writes back caches, clears the dirty bit (lazy refcounts), flushes. */
int hdi_qcow2_close(hdi_qcow2_t *q);
int hdi_qcow2_flush(hdi_qcow2_t *q);
/* The virtual disk: granule 512, size = virtual size. */
struct hdi_bdev *hdi_qcow2_bdev(hdi_qcow2_t *q);
/* Static text naming what the last error was about (a feature, a table);
 * "" when there is nothing more to say. */
const char *hdi_qcow2_errmsg(const hdi_qcow2_t *q);

/* Virtual-disk I/O; byte-granular, any offset and length. */
int hdi_qcow2_read(hdi_qcow2_t *q, uint64_t off, void *buf, size_t len);
int hdi_qcow2_write(hdi_qcow2_t *q, uint64_t off, const void *buf, size_t len);
int hdi_qcow2_write_zeroes(hdi_qcow2_t *q, uint64_t off, uint64_t len);
int hdi_qcow2_discard(hdi_qcow2_t *q, uint64_t off, uint64_t len);
/* A compressed write of one whole cluster (QEMU's compressed write, as
 * qemu-io write -c and qemu-img convert -c do it): off is cluster-aligned
 * and len is the cluster size, or what is left of the disk for its last
 * cluster (compressed as if padded with zeros). The cluster is stored
 * compressed when that is smaller than a cluster, else as a normal
 * cluster; compressed clusters are packed into shared host clusters as
 * QEMU packs them. Whatever the cluster held before is replaced. Needs
 * opts.compress and HDI_QCOW2_WORKSPACE_COMPRESSED(cluster size). */
int hdi_qcow2_write_compressed(hdi_qcow2_t *q, uint64_t off, const void *buf,
			       size_t len);
/* The same, with the cluster compressed by the caller (in other threads,
 * say): comp holds comp_len bytes that the image's compression type
 * decodes to buf (padded with zeros to the cluster size). comp_len 0 or
 * at least the cluster size: buf is stored uncompressed. Give the
 * compressor cluster size - 1 bytes of room, as QEMU does. Needs neither a
 * compressor nor the compressed workspace. */
int hdi_qcow2_write_precompressed(hdi_qcow2_t *q, uint64_t off,
				  const void *buf, size_t len,
				  const void *comp, size_t comp_len);
#define HDI_QCOW2_RESIZE_SHRINK 0x1u
int hdi_qcow2_resize(hdi_qcow2_t *q, uint64_t new_size, uint32_t flags);

/* Incompatible / compatible / autoclear feature bits (spec names). */
#define HDI_QCOW2_INCOMPAT_DIRTY        (1ull << 0)
#define HDI_QCOW2_INCOMPAT_CORRUPT      (1ull << 1)
#define HDI_QCOW2_INCOMPAT_DATA_FILE    (1ull << 2)
#define HDI_QCOW2_INCOMPAT_COMPRESSION  (1ull << 3)
#define HDI_QCOW2_INCOMPAT_EXTL2        (1ull << 4)
#define HDI_QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)
#define HDI_QCOW2_AUTOCLEAR_BITMAPS     (1ull << 0)
#define HDI_QCOW2_AUTOCLEAR_DATA_RAW    (1ull << 1)

struct hdi_qcow2_info_result {
	uint32_t version;            /* 2 or 3 */
	uint32_t cluster_bits;
	uint32_t refcount_bits;
	uint32_t compression_type;   /* HDI_QCOW2_COMPRESSION_* */
	uint64_t virtual_size;
	uint64_t file_size;          /* size of the image file device */
	uint64_t incompatible, compatible, autoclear;
	uint32_t nb_snapshots;
	uint32_t nb_bitmaps;
	bool has_backing;
	char backing_file[HDI_QCOW2_NAME_MAX];
	char backing_format[32];
};
int hdi_qcow2_info(hdi_qcow2_t *q, struct hdi_qcow2_info_result *out);

/* Mapping of the virtual disk, one extent at a time (like qemu-img map). */
#define HDI_QCOW2_MAP_DATA       0x1u  /* reads data (not all zero by flag) */
#define HDI_QCOW2_MAP_ZERO       0x2u  /* reads as zeros */
#define HDI_QCOW2_MAP_ALLOCATED  0x4u  /* allocated in this image (not backing) */
#define HDI_QCOW2_MAP_COMPRESSED 0x8u
#define HDI_QCOW2_MAP_OFFSET     0x10u /* host_offset is valid */
struct hdi_qcow2_extent {
	uint64_t start, length;
	uint64_t host_offset;
	uint32_t flags;
	unsigned depth;              /* chain depth the data comes from */
};
/* The extent starting at off (maximal run of same kind and contiguous
 * host offsets, within this image; backing extents report depth > 0 only
 * if the backing device is a qcow2 image reached through the chain). */
int hdi_qcow2_map(hdi_qcow2_t *q, uint64_t off, struct hdi_qcow2_extent *out);

/* Internal snapshots */
struct hdi_qcow2_snapshot {
	char id[64];
	char name[HDI_QCOW2_NAME_MAX];
	uint64_t date_sec;           /* seconds since the epoch */
	uint32_t date_nsec;
	uint64_t vm_clock_nsec;
	uint64_t vm_state_size;
	uint64_t disk_size;          /* virtual size at snapshot time */
	uint32_t icount_present;
	uint64_t icount;             /* instruction count, if icount_present */
};
int hdi_qcow2_snapshot_get(hdi_qcow2_t *q, uint32_t index,
			   struct hdi_qcow2_snapshot *out);
/* Find by id or name; returns index >= 0 or HDI_ENOENT. */
int hdi_qcow2_snapshot_find(hdi_qcow2_t *q, const char *id_or_name);
/* Switch the virtual disk to a read-only view of snapshot index
 * (UINT32_MAX: back to the active disk). */
int hdi_qcow2_snapshot_select(hdi_qcow2_t *q, uint32_t index);
/* Creates a snapshot of the active disk (qemu-img snapshot -c). From sn,
 * only name (unique, 1..1023 bytes), date_sec/date_nsec, vm_clock_nsec
 * and icount(_present) are used; the id is the next number. */
int hdi_qcow2_snapshot_create(hdi_qcow2_t *q, const struct hdi_qcow2_snapshot *sn);
/* Deletes snapshot index, freeing what only it used (qemu-img snapshot -d). */
int hdi_qcow2_snapshot_delete(hdi_qcow2_t *q, uint32_t index);
/* Makes the active disk a copy of snapshot index, its size included
 * (qemu-img snapshot -a); what only the old disk used is freed. */
int hdi_qcow2_snapshot_apply(hdi_qcow2_t *q, uint32_t index);

/* qemu-img commit: copies what the images above depth base_depth of the
 * chain allocate (read through h) into base, the writable device of the
 * image at that depth (base_depth 1: h's backing file), flushes it, then
 * empties h unless HDI_QCOW2_COMMIT_KEEP (qemu-img commit -d). The base
 * must be at least as large as the disk. */
#define HDI_QCOW2_COMMIT_KEEP 0x1u
int hdi_qcow2_commit(hdi_qcow2_t *q, struct hdi_bdev *base, unsigned base_depth,
		     uint32_t flags);

/* qemu-img rebase -b NAME [-F FMT]: every range the image does not
 * allocate itself and that reads differently through new_base (the opened
 * new backing file; NULL with name "" or NULL: none, flatten) is written
 * into the image first, then the header names name and fmt. With
 * HDI_QCOW2_REBASE_UNSAFE (-u, amend backing_file) only the header
 * changes. Afterwards the image reads through new_base. */
#define HDI_QCOW2_REBASE_UNSAFE 0x1u
int hdi_qcow2_rebase(hdi_qcow2_t *q, struct hdi_bdev *new_base, const char *name,
		     const char *fmt, uint32_t flags);

/* qemu-img amend -o compat=,lazy_refcounts=,refcount_bits= (the backing
 * file: hdi_qcow2_rebase with HDI_QCOW2_REBASE_UNSAFE). Upgrades first,
 * downgrades last; a downgrade to 0.10 refuses extended L2, zstd and other
 * incompatible features (HDI_EUNSUPP), as qemu-img does. */
struct hdi_qcow2_amend_opts {
	uint32_t version;            /* 0: keep; 2 (0.10) or 3 (1.1) */
	int lazy_refcounts;          /* -1: keep; 0 off; 1 on */
	uint32_t refcount_bits;      /* 0: keep */
};
int hdi_qcow2_amend(hdi_qcow2_t *q, const struct hdi_qcow2_amend_opts *o);

/* Persistent dirty bitmaps: listed (for info); contents are not read. */
#define HDI_QCOW2_BITMAP_IN_USE   0x1u
#define HDI_QCOW2_BITMAP_AUTO     0x2u
#define HDI_QCOW2_BITMAP_EXTRA_OK 0x4u
struct hdi_qcow2_bitmap {
	char name[HDI_QCOW2_NAME_MAX];
	uint32_t flags;              /* HDI_QCOW2_BITMAP_* */
	uint32_t type;               /* 1: dirty tracking */
	uint32_t granularity_bits;
	uint32_t table_size;         /* entries in the bitmap table */
	uint64_t table_offset;
};
/* Bitmap index < info.nb_bitmaps; HDI_ENOENT past the end. */
int hdi_qcow2_bitmap_get(hdi_qcow2_t *q, uint32_t index,
			 struct hdi_qcow2_bitmap *out);

/* Refcount of the host cluster containing host_offset (0 when no
 * refcount block covers it). */
int hdi_qcow2_refcount(hdi_qcow2_t *q, uint64_t host_offset,
		       uint64_t *refcount);

/* Consistency check, counting like qemu-img check. */
#define HDI_QCOW2_REPAIR_LEAKS 0x1u
#define HDI_QCOW2_REPAIR_ERRORS 0x2u
#define HDI_QCOW2_REPAIR_ALL (HDI_QCOW2_REPAIR_LEAKS | HDI_QCOW2_REPAIR_ERRORS)
struct hdi_qcow2_check_result {
	uint64_t corruptions, leaks, check_errors;
	uint64_t corruptions_fixed, leaks_fixed;
	uint64_t allocated_clusters, total_clusters;
	uint64_t fragmented_clusters, compressed_clusters;
	uint64_t image_end_offset;
};
/* Returns HDI_OK when the check ran (inspect the counts) or a negative code
 * when it could not. Read-only unless repair flags are given. */
int hdi_qcow2_check(hdi_qcow2_t *q, uint32_t repair,
		    struct hdi_qcow2_check_result *out);

/* Create a fresh image on file (which is truncated/overwritten from 0). */
struct hdi_qcow2_create_opts {
	uint64_t size;
	uint32_t version;            /* 2 (compat 0.10) or 3 (compat 1.1) */
	uint32_t cluster_bits;       /* 9..21 */
	uint32_t refcount_bits;      /* 1,2,4,...,64 */
	bool lazy_refcounts;
	bool extended_l2;
	const char *backing_file;    /* NULL: none */
	const char *backing_format;  /* NULL or "raw" / "qcow2" */
	bool preallocate_metadata;
	uint32_t compression_type;   /* HDI_QCOW2_COMPRESSION_*; zstd needs v3 */
};
/* Refuses options hdi_qcow2_create_check refuses (before touching file),
 * with the same code; otherwise a device error, or HDI_ENOMEM for a
 * workspace too small. */
int hdi_qcow2_create(struct hdi_bdev *file,
		     const struct hdi_qcow2_create_opts *o,
		     void *workspace, size_t workspace_size);
/* Checks o alone, as hdi_qcow2_create does first: HDI_OK, or the code
 * create would refuse with and, in *why (when why is not NULL), a static
 * sentence saying why in qemu-img's words ("" when OK). */
int hdi_qcow2_create_check(const struct hdi_qcow2_create_opts *o,
			   const char **why);

/* Does this buffer (>= 4 bytes) start with the qcow2 magic? */
bool hdi_qcow2_probe(const void *first_bytes, size_t len);

#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
