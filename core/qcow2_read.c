/* core/qcow2_read.c: reading a qcow2 image's virtual disk (data, zeros,
 * backing file, compressed clusters), the image as an hdi_bdev, and the
 * allocation map. */
#include "hdi/inflate.h"
#include "hdi/zstd.h"
#include "qcow2_int.h"

static bool is_open(const struct qcow2 *q)
{
	return q && q->state_magic == QC_STATE_MAGIC;
}

/* Host bytes past the end of the file read as zeros, as QEMU's file
 * driver does (a preallocated or truncated tail). */
static int read_host(struct qcow2 *q, uint64_t host, uint8_t *buf, size_t n)
{
	size_t have = 0;
	if (host < q->file_size)
		have = (size_t)hdi_min64(n, q->file_size - host);
	memset(buf + have, 0, n - have);
	return have ? hdi_qc_pread(q, host, buf, have) : HDI_OK;
}

/* A backing file shorter than the image reads as zeros past its end. */
static int read_backing(struct qcow2 *q, uint64_t off, uint8_t *buf, size_t n)
{
	size_t have = 0;
	if (q->backing && off < q->backing_size)
		have = (size_t)hdi_min64(n, q->backing_size - off);
	memset(buf + have, 0, n - have);
	if (!have)
		return HDI_OK;
	/* the bounce holds the backing file's granule too (ws layout) */
	return hdi_bdev_pread(q->backing, off, buf, have, q->bounce);
}

/* A decompressor configured out (hdi/config.h) makes its clusters
 * HDI_EUNSUPP; the rest of the image stays readable. */
static int decompressor_built(struct qcow2 *q)
{
	if (q->compression_type == QC_COMPRESSION_ZSTD && !HDI_CONFIG_ZSTD)
		return hdi_qc_err(q, HDI_EUNSUPP, "zstd compressed clusters are not "
				  "built in (HDI_CONFIG_ZSTD)");
	if (q->compression_type != QC_COMPRESSION_ZSTD && !HDI_CONFIG_ZLIB)
		return hdi_qc_err(q, HDI_EUNSUPP, "zlib compressed clusters are not "
				  "built in (HDI_CONFIG_ZLIB)");
	return HDI_OK;
}

static int decompress(struct qcow2 *q, uint8_t *dst, size_t bytes, size_t *got)
{
#if HDI_CONFIG_ZSTD
	if (q->compression_type == QC_COMPRESSION_ZSTD)
		return hdi_zstd_decompress(dst, q->cluster_size, got, q->z_in,
					   bytes, NULL, q->z_work, HDI_ZSTD_WORK_SIZE);
#endif
#if HDI_CONFIG_ZLIB
	if (q->compression_type != QC_COMPRESSION_ZSTD)
		return hdi_inflate_raw(dst, q->cluster_size, got, q->z_in,
				       bytes, NULL, q->z_work, HDI_INFLATE_WORK_SIZE);
#endif
	(void)dst;
	return decompressor_built(q);
}

/* One compressed cluster into dst (cluster_size bytes). */
static int inflate_cluster(struct qcow2 *q, uint64_t entry, uint8_t *dst)
{
	uint64_t host, bytes;
	size_t got = 0;
	int r = decompressor_built(q);
	if (r < 0)
		return r;
	hdi_qc_compressed_desc(q, entry, &host, &bytes);
	if (bytes > q->z_in_size)
		bytes = q->z_in_size;
	r = read_host(q, host, q->z_in, (size_t)bytes);
	if (r < 0)
		return r;
	r = decompress(q, dst, (size_t)bytes, &got);
	if (r == HDI_EUNSUPP)
		return hdi_qc_err(q, r, "zstd frame needs a dictionary");
	if (r < 0 || got != q->cluster_size)
		return hdi_qc_err(q, HDI_ECORRUPT, "compressed cluster does not decompress");
	return HDI_OK;
}

static int read_compressed(struct qcow2 *q, uint64_t entry, uint64_t voff,
			   uint8_t *buf, size_t n)
{
	int r;
	if (!q->z_out)
		return hdi_qc_err(q, HDI_ENOMEM, "workspace too small for compressed "
				  "clusters (see HDI_QCOW2_WORKSPACE_COMPRESSED)");
	if (q->z_valid && q->z_cached == entry) {
		memcpy(buf, q->z_out + hdi_qc_offset_in_cluster(q, voff), n);
		return HDI_OK;
	}
	/* a whole cluster is decoded straight into the caller's buffer,
	 * without a copy; the cached one stays */
	if (n == q->cluster_size)
		return inflate_cluster(q, entry, buf);
	/* the bdev view reads 512 bytes at a time: keep the last cluster */
	q->z_valid = false;
	r = inflate_cluster(q, entry, q->z_out);
	if (r < 0)
		return r;
	q->z_cached = entry;
	q->z_valid = true;
	memcpy(buf, q->z_out + hdi_qc_offset_in_cluster(q, voff), n);
	return HDI_OK;
}

int hdi_qc_read_view(struct qcow2 *q, const struct qc_l1 *l1, uint64_t off,
		     void *buf, size_t len)
{
	uint8_t *p = buf;
	struct qc_run run;
	int r;
	while (len) {
		size_t n;
		r = hdi_qc_lookup(q, l1, off, len, &run);
		if (r < 0)
			return r;
		n = (size_t)run.len;
		switch (run.type) {
		case QC_T_NORMAL:
			r = read_host(q, run.host, p, n);
			break;
		case QC_T_ZERO_PLAIN:
		case QC_T_ZERO_ALLOC:
			memset(p, 0, n);
			r = HDI_OK;
			break;
		case QC_T_UNALLOC_PLAIN:
		case QC_T_UNALLOC_ALLOC:
			r = read_backing(q, off, p, n);
			break;
		case QC_T_COMPRESSED:
			r = read_compressed(q, run.l2_entry, off, p, n);
			break;
		default:
			r = hdi_qc_err(q, HDI_ECORRUPT, "invalid L2 entry");
			break;
		}
		if (r < 0)
			return r;
		p += n;
		off += n;
		len -= n;
	}
	return HDI_OK;
}

int hdi_qcow2_read(hdi_qcow2_t *h, uint64_t off, void *buf, size_t len)
{
	struct qcow2 *q = hdi_qc(h);
	uint64_t end;
	if (!is_open(q) || (!buf && len))
		return HDI_EINVAL;
	if (!hdi_add_ok(off, len, &end) || end > q->view.disk_size)
		return HDI_EINVAL;
	return len ? hdi_qc_read_view(q, &q->view, off, buf, len) : HDI_OK;
}

/* ---- the virtual disk as a block device --------------------------------- */
/* A granule-aligned read may run into the last, partial sector of an odd
 * virtual size: that part reads as zeros. */
static int view_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct qcow2 *q = ctx;
	size_t have = 0;
	if (off < q->view.disk_size)
		have = (size_t)hdi_min64(len, q->view.disk_size - off);
	memset((uint8_t *)buf + have, 0, len - have);
	return have ? hdi_qc_read_view(q, &q->view, off, buf, have) : HDI_OK;
}

/* Writes reach the write path only through the table a read-write open
 * installed. */
static int view_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	struct qcow2 *q = ctx;
	if (q->view_snapshot != UINT32_MAX || !q->rw)
		return HDI_EROFS;
	return q->rw->write(q, off, buf, len);
}

static int view_flush(void *ctx)
{
	struct qcow2 *q = ctx;
	return is_open(q) ? hdi_qc_flush(q) : HDI_EINVAL;
}

static int view_size(void *ctx, uint64_t *bytes)
{
	*bytes = ((struct qcow2 *)ctx)->view.disk_size;
	return HDI_OK;
}

static const struct hdi_bdev_ops view_ops = {
	.version = HDI_BDEV_OPS_VERSION,
	.read = view_read,
	.write = view_write,
	.flush = view_flush,
	.size = view_size,
	.grow = 0,
};

void hdi_qc_view_init(struct qcow2 *q)
{
	q->view_dev.ops = &view_ops;
	q->view_dev.ctx = q;
	q->view_dev.granule = 512;
	hdi_qc_view_flags(q);
}

struct qcow2 *hdi_qc_from_bdev(const struct hdi_bdev *d)
{
	struct qcow2 *q;
	if (!d || d->ops != &view_ops)
		return NULL;
	q = d->ctx;
	return is_open(q) ? q : NULL;
}

struct hdi_bdev *hdi_qcow2_bdev(hdi_qcow2_t *h)
{
	struct qcow2 *q = hdi_qc(h);
	return is_open(q) ? &q->view_dev : NULL;
}

/* ---- map ---------------------------------------------------------------- */
static int map_view(struct qcow2 *q, uint64_t off, struct hdi_qcow2_extent *out);

/* Unallocated here: what the backing file has (QEMU's block status goes
 * down the chain, one depth per image). */
static int map_backing(struct qcow2 *q, uint64_t off, const struct qc_run *run,
		       struct hdi_qcow2_extent *out)
{
	struct qcow2 *b = hdi_qc_from_bdev(q->backing);
	uint64_t len = run->len;
	int r;
	out->length = len;
	if (!q->backing || off >= q->backing_size) {
		/* QEMU stops at this depth with synthesized zeros, keeping the
		 * host offset of an allocated cluster's unallocated subcluster */
		out->flags = HDI_QCOW2_MAP_ZERO;
		if (run->type == QC_T_UNALLOC_ALLOC) {
			out->flags |= HDI_QCOW2_MAP_OFFSET;
			out->host_offset = run->host;
		}
		return HDI_OK;
	}
	len = hdi_min64(len, q->backing_size - off);
	if (!b) {
		out->flags = HDI_QCOW2_MAP_DATA | HDI_QCOW2_MAP_ALLOCATED |
			     HDI_QCOW2_MAP_OFFSET;
		out->host_offset = off;
		out->length = len;
		out->depth = 1;
		return HDI_OK;
	}
	r = map_view(b, off, out);
	if (r < 0)
		return hdi_qc_err(q, r, "mapping the backing file failed");
	out->start = off;
	out->length = hdi_min64(out->length, len);
	out->depth++;
	return HDI_OK;
}

static int map_view(struct qcow2 *q, uint64_t off, struct hdi_qcow2_extent *out)
{
	struct qc_run run;
	int r;
	memset(out, 0, sizeof(*out));
	out->start = off;
	if (off >= q->view.disk_size)
		return HDI_EINVAL;
	r = hdi_qc_lookup(q, &q->view, off, q->view.disk_size - off, &run);
	if (r < 0)
		return r;
	out->length = run.len;
	switch (run.type) {
	case QC_T_NORMAL:
		out->flags = HDI_QCOW2_MAP_DATA | HDI_QCOW2_MAP_ALLOCATED | HDI_QCOW2_MAP_OFFSET;
		out->host_offset = run.host;
		return HDI_OK;
	case QC_T_ZERO_ALLOC:
		out->flags = HDI_QCOW2_MAP_ZERO | HDI_QCOW2_MAP_ALLOCATED | HDI_QCOW2_MAP_OFFSET;
		out->host_offset = run.host;
		return HDI_OK;
	case QC_T_ZERO_PLAIN:
		out->flags = HDI_QCOW2_MAP_ZERO | HDI_QCOW2_MAP_ALLOCATED;
		return HDI_OK;
	case QC_T_COMPRESSED:
		out->flags = HDI_QCOW2_MAP_DATA | HDI_QCOW2_MAP_ALLOCATED | HDI_QCOW2_MAP_COMPRESSED;
		return HDI_OK;
	case QC_T_UNALLOC_PLAIN:
	case QC_T_UNALLOC_ALLOC:
		return map_backing(q, off, &run, out);
	default:
		return hdi_qc_err(q, HDI_ECORRUPT, "invalid L2 entry");
	}
}

static bool extends(const struct hdi_qcow2_extent *a,
		    const struct hdi_qcow2_extent *b)
{
	return a->flags == b->flags && a->depth == b->depth &&
	       (!(a->flags & HDI_QCOW2_MAP_OFFSET) ||
		a->host_offset + a->length == b->host_offset);
}

/* Lookups stop at L2 slice ends; the extent goes on while the next one
 * looks the same. */
int hdi_qcow2_map(hdi_qcow2_t *h, uint64_t off, struct hdi_qcow2_extent *out)
{
	struct qcow2 *q = hdi_qc(h);
	struct hdi_qcow2_extent next;
	int r;
	if (!is_open(q) || !out)
		return HDI_EINVAL;
	r = map_view(q, off, out);
	while (r == HDI_OK && !(out->flags & HDI_QCOW2_MAP_COMPRESSED) &&
	       out->start + out->length < q->view.disk_size) {
		r = map_view(q, out->start + out->length, &next);
		if (r < 0 || !extends(out, &next))
			break;   /* an error is the caller's: never swallowed */
		out->length += next.length;
	}
	return r;
}
