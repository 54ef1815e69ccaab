/* core/qcow2_open.c: opening a qcow2 image: header, feature bits, header
 * extensions, the backing file; close, flush, info. Every field is checked
 * against the spec and the file size. What a read-write open adds comes
 * in through the q->rw table (qcow2_rw_hooks.c). */
#include "qcow2_int.h"

static int derive_geometry(struct qcow2 *q)
{
	bool extl2 = (q->incompat & HDI_QCOW2_INCOMPAT_EXTL2) != 0;
	q->l2_entry_bytes = extl2 ? 16u : 8u;
	q->l2_bits = q->cluster_bits - (extl2 ? 4u : 3u);
	q->subclusters = extl2 ? QC_EXTL2_SUBCLUSTERS : 1u;
	q->subcluster_bits = q->cluster_bits - (extl2 ? 5u : 0u);
	if (q->subcluster_bits < QC_MIN_CLUSTER_BITS)
		return hdi_qc_err(q, HDI_ECORRUPT,
				  "extended L2 entries need clusters of at least 16 KiB");
	q->refcount_bits = 1u << q->refcount_order;
	q->rb_bits = q->cluster_bits + 3u - q->refcount_order;
	return HDI_OK;
}

/* ---- the fixed header --------------------------------------------------- */
#define HDR_READ 112u   /* v3 header with the compression type byte */

static int parse_geometry(struct qcow2 *q, const uint8_t *h)
{
	q->version = hdi_ld_be32(h + 4);
	if (q->version != 2 && q->version != 3)
		return hdi_qc_err_num(q, HDI_EUNSUPP, "unsupported qcow2 version ",
				      q->version, NULL);
	q->cluster_bits = hdi_ld_be32(h + 20);
	if (q->cluster_bits < QC_MIN_CLUSTER_BITS ||
	    q->cluster_bits > QC_MAX_CLUSTER_BITS)
		return hdi_qc_err_num(q, HDI_EUNSUPP, "unsupported cluster size: 2^",
				      q->cluster_bits, NULL);
	q->cluster_size = 1u << q->cluster_bits;
	if (q->version == 2) {
		q->header_length = QC_V2_HEADER_LEN;
		q->refcount_order = 4;
		return derive_geometry(q);
	}
	q->incompat = hdi_ld_be64(h + 72);
	q->compat = hdi_ld_be64(h + 80);
	q->autoclear = hdi_ld_be64(h + 88);
	q->refcount_order = hdi_ld_be32(h + 96);
	q->header_length = hdi_ld_be32(h + 100);
	if (q->header_length < QC_V3_HEADER_MIN)
		return hdi_qc_err(q, HDI_ECORRUPT, "qcow2 header too short");
	if (q->header_length > q->cluster_size)
		return hdi_qc_err(q, HDI_ECORRUPT, "qcow2 header exceeds cluster size");
	if (q->refcount_order > QC_MAX_REFCOUNT_ORDER)
		return hdi_qc_err(q, HDI_ECORRUPT,
				  "refcount width too large (more than 64 bits)");
	if (q->header_length > QC_HDR_COMPRESSION_OFF)
		q->compression_type = h[QC_HDR_COMPRESSION_OFF];
	return derive_geometry(q);
}

static int check_compression(struct qcow2 *q)
{
	bool bit = (q->incompat & HDI_QCOW2_INCOMPAT_COMPRESSION) != 0;
	if (q->compression_type > QC_COMPRESSION_ZSTD)
		return hdi_qc_err_num(q, HDI_EUNSUPP, "unknown compression type ",
				      q->compression_type, NULL);
	if (q->compression_type == QC_COMPRESSION_ZLIB && bit)
		return hdi_qc_err(q, HDI_ECORRUPT,
				  "compression type bit set for zlib compression");
	if (q->compression_type != QC_COMPRESSION_ZLIB && !bit)
		return hdi_qc_err(q, HDI_ECORRUPT,
				  "compression type bit missing for zstd compression");
	return HDI_OK;
}

static int parse_tables(struct qcow2 *q, const uint8_t *h)
{
	uint64_t l1_need;
	q->backing_name_offset = hdi_ld_be64(h + 8);
	q->backing_name_size = hdi_ld_be32(h + 16);
	q->size = hdi_ld_be64(h + 24);
	q->crypt_method = hdi_ld_be32(h + 32);
	q->l1_size = hdi_ld_be32(h + 36);
	q->l1_offset = hdi_ld_be64(h + 40);
	q->rt_offset = hdi_ld_be64(h + 48);
	q->rt_clusters = hdi_ld_be32(h + 56);
	q->nb_snapshots = hdi_ld_be32(h + 60);
	q->snapshots_offset = hdi_ld_be64(h + 64);

	if (q->crypt_method == QC_CRYPT_AES)
		return hdi_qc_err(q, HDI_EUNSUPP, "encrypted image (AES) is not supported");
	if (q->crypt_method == QC_CRYPT_LUKS)
		return hdi_qc_err(q, HDI_EUNSUPP, "encrypted image (LUKS) is not supported");
	if (q->crypt_method != QC_CRYPT_NONE)
		return hdi_qc_err_num(q, HDI_EUNSUPP, "unknown encryption method ",
				      q->crypt_method, NULL);

	/* L1: QEMU's limits first, then the file */
	if ((uint64_t)q->l1_size > QC_MAX_L1_BYTES / 8u)
		return hdi_qc_err(q, HDI_ECORRUPT, "active L1 table too large");
	l1_need = hdi_qc_size_to_l1(q, q->size);
	if (l1_need > INT32_MAX)
		return hdi_qc_err(q, HDI_ECORRUPT, "image is too big");
	if ((uint64_t)q->l1_size < l1_need)
		return hdi_qc_err(q, HDI_ECORRUPT, "L1 table is too small");
	/* QEMU counts the disk in whole sectors (total_sectors) */
	q->size &= ~(uint64_t)511u;
	/* QEMU's validate_table_offset: aligned even when empty */
	if (hdi_qc_offset_in_cluster(q, q->l1_offset) ||
	    (q->l1_size && !hdi_qc_in_file(q, q->l1_offset, (uint64_t)q->l1_size * 8u)))
		return hdi_qc_err(q, HDI_ECORRUPT, "invalid L1 table offset");

	/* refcount table */
	if (q->rt_clusters == 0)
		return hdi_qc_err(q, HDI_ECORRUPT, "image has no refcount table");
	if (q->rt_clusters > (QC_MAX_REFTABLE_BYTES >> q->cluster_bits))
		return hdi_qc_err(q, HDI_ECORRUPT, "refcount table too large");
	q->rt_entries = ((uint64_t)q->rt_clusters << q->cluster_bits) >> 3;
	if (hdi_qc_offset_in_cluster(q, q->rt_offset) || q->rt_offset == 0 ||
	    !hdi_qc_in_file(q, q->rt_offset, (uint64_t)q->rt_clusters << q->cluster_bits))
		return hdi_qc_err(q, HDI_ECORRUPT, "invalid refcount table offset");

	/* snapshot table: entries are walked by hdi_qc_snapshot_scan */
	if (q->nb_snapshots > QC_MAX_SNAPSHOTS)
		return hdi_qc_err(q, HDI_ECORRUPT, "too many snapshots");
	if (hdi_qc_offset_in_cluster(q, q->snapshots_offset) ||
	    (q->nb_snapshots && !hdi_qc_in_file(q, q->snapshots_offset,
				(uint64_t)q->nb_snapshots * QC_SNAPSHOT_HDR_LEN)))
		return hdi_qc_err(q, HDI_ECORRUPT, "invalid snapshot table offset");

	/* backing file name: inside the first cluster, at most 1023 bytes */
	if (q->backing_name_offset) {
		if (q->backing_name_offset > q->cluster_size ||
		    q->backing_name_size > QC_MAX_BACKING_NAME ||
		    q->backing_name_size > q->cluster_size - q->backing_name_offset)
			return hdi_qc_err(q, HDI_ECORRUPT, "backing file name too long or misplaced");
		if (!hdi_qc_in_file(q, q->backing_name_offset, q->backing_name_size))
			return hdi_qc_err(q, HDI_ECORRUPT, "backing file name outside the file");
		if (q->backing_name_size >= HDI_QCOW2_NAME_MAX)
			return hdi_qc_err(q, HDI_EUNSUPP, "backing file name longer than "
					  "this build allows (HDI_CONFIG_NAME_MAX)");
	} else {
		q->backing_name_size = 0;
	}
	return HDI_OK;
}

/* ---- header extensions -------------------------------------------------- */
static int ext_backing_fmt(struct qcow2 *q, uint64_t off, uint32_t len)
{
	int r;
	if (len >= 16u)   /* QEMU's limit for the format name */
		return hdi_qc_err(q, HDI_ECORRUPT, "backing format extension too large");
	r = hdi_qc_pread(q, off, q->backing_fmt, len);
	q->backing_fmt[len] = 0;
	return r;
}

static int ext_bitmaps(struct qcow2 *q, uint64_t off, uint32_t len)
{
	uint8_t b[24];
	int r;
	if (!(q->autoclear & HDI_QCOW2_AUTOCLEAR_BITMAPS))
		return HDI_OK;   /* stale: a bitmap-unaware writer touched it */
	if (len != sizeof b)
		return hdi_qc_err(q, HDI_ECORRUPT, "invalid bitmaps extension length");
	r = hdi_qc_pread(q, off, b, sizeof b);
	if (r < 0)
		return r;
	q->nb_bitmaps = hdi_ld_be32(b);
	q->bitmap_dir_size = hdi_ld_be64(b + 8);
	q->bitmap_dir_offset = hdi_ld_be64(b + 16);
	if (q->nb_bitmaps == 0 || q->nb_bitmaps > QC_MAX_BITMAPS || hdi_ld_be32(b + 4))
		return hdi_qc_err(q, HDI_ECORRUPT, "invalid bitmaps extension");
	if (q->bitmap_dir_size > QC_MAX_BITMAP_DIR_BYTES ||
	    hdi_qc_offset_in_cluster(q, q->bitmap_dir_offset) ||
	    !hdi_qc_in_file(q, q->bitmap_dir_offset, q->bitmap_dir_size))
		return hdi_qc_err(q, HDI_ECORRUPT, "invalid bitmap directory");
	q->has_bitmaps_ext = true;
	return HDI_OK;
}

static int one_ext(struct qcow2 *q, uint32_t type, uint64_t off, uint32_t len)
{
	switch (type) {
	case QC_EXT_BACKING_FMT:
		return ext_backing_fmt(q, off, len);
	case QC_EXT_FEATURE_TABLE:
		q->feature_table_offset = off;
		q->feature_table_len = len;
		return HDI_OK;
	case QC_EXT_BITMAPS:
		return ext_bitmaps(q, off, len);
	case QC_EXT_DATA_FILE:
		q->data_file_ext = 1;
		return HDI_OK;
	default:
		return HDI_OK;   /* unknown extensions are skipped */
	}
}

/* Extensions run from the end of the header to the backing name (or the
 * end of the first cluster); bytes past the end of the file read as 0, the
 * end marker. */
static int read_extensions(struct qcow2 *q)
{
	uint64_t off = q->header_length, end;
	uint8_t e[8];
	int r;
	end = q->backing_name_offset ? q->backing_name_offset : q->cluster_size;
	q->ext_offset = off;
	while (off < end && off + 8u <= q->file_size) {
		uint32_t type, len;
		r = hdi_qc_pread(q, off, e, 8);
		if (r < 0)
			return r;
		type = hdi_ld_be32(e);
		len = hdi_ld_be32(e + 4);
		off += 8u;
		if (off > end || len > end - off)
			return hdi_qc_err(q, HDI_ECORRUPT, "header extension too large");
		if (type == QC_EXT_END)
			break;
		if (!hdi_qc_in_file(q, off, len))
			return hdi_qc_err(q, HDI_ECORRUPT, "header extension outside the file");
		r = one_ext(q, type, off, len);
		if (r < 0)
			return r;
		off += ((uint64_t)len + 7u) & ~(uint64_t)7u;
	}
	q->ext_end = off;
	return HDI_OK;
}

/* Looks the bit up in the feature name table for a better message. */
static int name_feature(struct qcow2 *q, unsigned type, unsigned bit)
{
	uint8_t ent[48];
	uint32_t i;
	for (i = 0; i + 48u <= q->feature_table_len; i += 48u) {
		if (hdi_qc_pread(q, q->feature_table_offset + i, ent, 48) < 0)
			break;
		if (ent[0] == type && ent[1] == bit && ent[2])
			return hdi_qc_err_str(q, HDI_EUNSUPP,
					      "unsupported incompatible feature: ",
					      (const char *)ent + 2, 46);
	}
	return hdi_qc_err_num(q, HDI_EUNSUPP, "unknown incompatible feature bit ",
			      bit, NULL);
}

static int check_incompat(struct qcow2 *q)
{
	uint64_t unknown = q->incompat & ~QC_INCOMPAT_KNOWN;
	unsigned bit;
	if (q->incompat & HDI_QCOW2_INCOMPAT_DATA_FILE)
		return hdi_qc_err(q, HDI_EUNSUPP, "external data file is not supported");
	if (!unknown)
		return HDI_OK;
	for (bit = 0; !(unknown & (1ull << bit)); bit++)
		;
	return name_feature(q, 0, bit);
}

/* ---- backing file ------------------------------------------------------- */
/* Hands the backing device back to the caller that opened it, once. */
void hdi_qc_release_backing(struct qcow2 *q)
{
	if (q->backing && q->close_backing)
		q->close_backing(q->backing_ctx, q->backing);
	q->backing = NULL;
}

static int open_backing(struct qcow2 *q, const struct hdi_qcow2_opts *o)
{
	char *name = (char *)q->scratch;
	int r;
	if (!q->backing_name_size || (q->open_flags & HDI_QCOW2_NO_BACKING))
		return HDI_OK;
	if (!o->open_backing)
		return hdi_qc_err(q, HDI_EUNSUPP, "image has a backing file but no way to open it");
	if (q->depth + 1u >= HDI_QCOW2_MAX_CHAIN)
		return hdi_qc_err(q, HDI_ELOOP, "backing chain too deep");
	r = hdi_qc_pread(q, q->backing_name_offset, name, q->backing_name_size);
	if (r < 0)
		return r;
	name[q->backing_name_size] = 0;
	r = o->open_backing(o->backing_ctx, name, q->backing_fmt, q->depth, &q->backing);
	if (r == HDI_OK && !q->backing)
		r = HDI_EINVAL;
	else if (r == HDI_OK && (!hdi_is_pow2(q->backing->granule) ||
				 q->backing->granule > HDI_GRANULE_MAX)) {
		hdi_qc_release_backing(q);
		r = HDI_EINVAL;
	}
	if (r < 0) {
		q->backing = NULL;
		return hdi_qc_err(q, r, r == HDI_ELOOP ?
				  "backing chain loops or is too deep" :
				  "cannot open the backing file");
	}
	r = hdi_bdev_size(q->backing, &q->backing_size);
	if (r < 0)
		return hdi_qc_err(q, r, "cannot size the backing file");
	return HDI_OK;
}

/* ---- open / close ------------------------------------------------------- */
static int check_args(struct qcow2 *q, struct hdi_bdev *file,
		      const struct hdi_qcow2_opts *o)
{
	if (!file || !o || !o->workspace || !file->ops)
		return hdi_qc_err(q, HDI_EINVAL, "missing file, options or workspace");
	if (o->workspace_size < HDI_QCOW2_WORKSPACE_MIN)
		return hdi_qc_err(q, HDI_ENOMEM, "workspace smaller than HDI_QCOW2_WORKSPACE_MIN");
	if (!hdi_is_pow2(file->granule) || file->granule > HDI_GRANULE_MAX)
		return hdi_qc_err(q, HDI_EINVAL, "file device has a bad granule");
	if (o->depth >= HDI_QCOW2_MAX_CHAIN)
		return hdi_qc_err(q, HDI_ELOOP, "backing chain too deep");
	if ((o->flags & HDI_QCOW2_RDWR) && (file->flags & HDI_BDEV_RDONLY))
		return hdi_qc_err(q, HDI_EROFS, "read-write open of a read-only file");
	return HDI_OK;
}

static int read_header(struct qcow2 *q)
{
	uint8_t h[HDR_READ];
	int r;
	r = hdi_bdev_size(q->file, &q->file_size);
	if (r < 0)
		return r;
	if (q->file_size < QC_V2_HEADER_LEN)
		return hdi_qc_err(q, HDI_ECORRUPT, "file too small for a qcow2 header");
	memset(h, 0, sizeof h);
	r = hdi_qc_pread(q, 0, h, (size_t)hdi_min64(q->file_size, sizeof h));
	if (r < 0)
		return r;
	if (hdi_ld_be32(h) != QC_MAGIC)
		return hdi_qc_err(q, HDI_EINVAL, "not a qcow2 image (bad magic)");
	r = parse_geometry(q, h);
	if (r == HDI_OK && q->header_length > q->file_size)
		r = hdi_qc_err(q, HDI_ECORRUPT, "header runs past the end of the file");
	if (r == HDI_OK)
		r = parse_tables(q, h);
	return r;
}

static int open_image(struct qcow2 *q, const struct hdi_qcow2_opts *o)
{
	int r = read_header(q);
	if (r == HDI_OK)
		r = read_extensions(q);
	if (r == HDI_OK)
		r = check_incompat(q);
	if (r == HDI_OK)
		r = check_compression(q);
	if (r == HDI_OK)
		r = hdi_qc_ws_layout(q);
	if (r == HDI_OK)
		r = hdi_qc_snapshot_scan(q);
	if (r < 0)
		return r;
	q->active.offset = q->l1_offset;
	q->active.size = q->l1_size;
	q->active.disk_size = q->size;
	q->view = q->active;
	q->view_snapshot = UINT32_MAX;
	r = open_backing(q, o);
	if (r == HDI_OK && q->backing && q->backing->granule > 512u)
		r = hdi_qc_ws_layout(q);   /* the bounce must hold its granule */
	if (r < 0)
		return r;
	hdi_qc_view_init(q);
	if (q->rw)
		r = q->rw->open(q);
	return r;
}

int hdi_qc_open(hdi_qcow2_t *h, struct hdi_bdev *file,
		const struct hdi_qcow2_opts *o, const struct qc_rw_ops *rw)
{
	struct qcow2 *q = hdi_qc(h);
	int r;
	if (!h)
		return HDI_EINVAL;
	memset(q, 0, sizeof(*q));
	q->errmsg = "";
	r = check_args(q, file, o);
	if (r < 0)
		return r;
	if ((o->flags & HDI_QCOW2_RDWR) && !rw)
		return hdi_qc_err(q, HDI_EROFS, "read-write open through the read-only entry");
	q->rw = (o->flags & HDI_QCOW2_RDWR) ? rw : NULL;
	q->file = file;
	q->open_flags = o->flags;
	q->depth = o->depth;
	q->compress = o->compress;
	q->compress_ctx = o->compress_ctx;
	q->ws = o->workspace;
	q->ws_size = o->workspace_size;
	/* the header is read through a bounce at the workspace start until
	 * the real layout exists */
	q->bounce = (uint8_t *)(((uintptr_t)q->ws + 7u) & ~(uintptr_t)7u);
	q->close_backing = o->close_backing;
	q->backing_ctx = o->backing_ctx;
	r = open_image(q, o);
	if (r < 0) {
		hdi_qc_release_backing(q);   /* a failed open leaks nothing */
		return r;
	}
	q->state_magic = QC_STATE_MAGIC;
	return HDI_OK;
}

int hdi_qcow2_open_ro(hdi_qcow2_t *h, struct hdi_bdev *file,
		      const struct hdi_qcow2_opts *o)
{
	return hdi_qc_open(h, file, o, NULL);
}

#if HDI_CONFIG_READONLY
/* No write path is built: every open is the read-only one. */
int hdi_qcow2_open(hdi_qcow2_t *h, struct hdi_bdev *file,
		   const struct hdi_qcow2_opts *o)
{
	return hdi_qc_open(h, file, o, NULL);
}
#endif

static bool is_open(const struct qcow2 *q)
{
	return q && q->state_magic == QC_STATE_MAGIC;
}

int hdi_qcow2_flush(hdi_qcow2_t *h)
{
	struct qcow2 *q = hdi_qc(h);
	if (!is_open(q))
		return HDI_EINVAL;
	return hdi_qc_flush(q);
}

int hdi_qcow2_close(hdi_qcow2_t *h)
{
	struct qcow2 *q = hdi_qc(h);
	int r = HDI_OK, r2;
	if (!is_open(q))
		return HDI_EINVAL;
	if (q->rw)
		r = q->rw->close(q);
	r2 = hdi_qc_caches_flush(q);
	hdi_qc_release_backing(q);
	q->state_magic = 0;   /* errmsg stays readable */
	return r < 0 ? r : r2;
}

bool hdi_qcow2_probe(const void *first_bytes, size_t len)
{
	return first_bytes && len >= 4 && hdi_ld_be32(first_bytes) == QC_MAGIC;
}

int hdi_qcow2_info(hdi_qcow2_t *h, struct hdi_qcow2_info_result *out)
{
	struct qcow2 *q = hdi_qc(h);
	int r = HDI_OK;
	if (!is_open(q) || !out)
		return HDI_EINVAL;
	memset(out, 0, sizeof(*out));
	out->version = q->version;
	out->cluster_bits = q->cluster_bits;
	out->refcount_bits = q->refcount_bits;
	out->compression_type = q->compression_type;
	out->virtual_size = q->size;
	out->file_size = q->file_size;
	out->incompatible = q->incompat;
	out->compatible = q->compat;
	out->autoclear = q->autoclear;
	out->nb_snapshots = q->nb_snapshots;
	out->nb_bitmaps = q->has_bitmaps_ext ? q->nb_bitmaps : 0;
	out->has_backing = q->backing_name_size != 0;
	if (out->has_backing)
		r = hdi_qc_pread(q, q->backing_name_offset, out->backing_file,
				 q->backing_name_size);
	memcpy(out->backing_format, q->backing_fmt, sizeof out->backing_format);
	out->backing_format[sizeof out->backing_format - 1] = 0;
	return r;
}
