/* core/qcow2_create.c: hdi_qcow2_create: lays out a fresh qcow2 image
 * (header + extensions, refcount table and blocks, empty L1) in one pass. */
#include "qcow2_wr.h"

#if !HDI_CONFIG_READONLY

#define QC_EXT_FEATURES     0x6803f857u
#define QC_V2_HDR_LEN       72u
#define QC_V3_HDR_LEN       112u
#define QC_HDR_BUF          2048u          /* header bytes built in workspace */

/* Where everything goes, in clusters: header, refcount table, refcount
 * blocks, L1. */
struct layout {
	uint32_t cbits, rorder;
	uint64_t cs;
	uint64_t l1_entries, l1_clusters;
	uint64_t rt_clusters, rb_clusters, total;
	uint64_t rt_off, rb_off, l1_off;
	uint32_t hdr_len;          /* header + extensions + backing name */
};

static uint64_t div_up_pow2(uint64_t v, unsigned bits)
{
	return (v >> bits) + ((v & ((1ull << bits) - 1u)) != 0);
}

static size_t str_len(const char *s)
{
	size_t n = 0;
	while (s && s[n])
		n++;
	return n;
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static int order_of(uint32_t v)
{
	int o = 0;
	while ((1u << o) < v)
		o++;
	return o;
}

/* Sets *why (when asked) to a static sentence in qemu-img's wording. */
static int refuse(const char **why, int code, const char *msg)
{
	if (why)
		*why = msg;
	return code;
}

static int validate(const struct hdi_qcow2_create_opts *o, const char **why)
{
	if (o->version != 2 && o->version != 3)
		return refuse(why, HDI_EINVAL, "Compatibility level must be 0.10 (version 2) or 1.1 (version 3)");
	if (o->cluster_bits < 9 || o->cluster_bits > 21)
		return refuse(why, HDI_EINVAL, "Cluster size must be a power of two between 512 and 2048k");
	if (o->refcount_bits < 1 || o->refcount_bits > 64 ||
	    !hdi_is_pow2(o->refcount_bits))
		return refuse(why, HDI_EINVAL, "Refcount width must be a power of two and may not exceed 64 bits");
	if (o->version == 2 && o->lazy_refcounts)
		return refuse(why, HDI_EINVAL, "Lazy refcounts only supported with compatibility level 1.1 and above");
	if (o->version == 2 && o->refcount_bits != 16)
		return refuse(why, HDI_EINVAL, "Different refcount widths than 16 bits require compatibility level 1.1 or above");
	if (o->version == 2 && o->extended_l2)
		return refuse(why, HDI_EINVAL, "Extended L2 entries are only supported with compatibility level 1.1 and above");
	/* 32 subclusters of at least 512 bytes each */
	if (o->extended_l2 && o->cluster_bits < 14)
		return refuse(why, HDI_EINVAL, "Extended L2 entries are only supported with cluster sizes of at least 16384 bytes");
	if (o->size & 511u)
		return refuse(why, HDI_EINVAL, "Image size must be a multiple of 512 bytes");
	if (o->backing_format && !o->backing_file)
		return refuse(why, HDI_EINVAL, "Backing format cannot be used without backing file");
	/* QEMU: only with extended L2; we do not (yet) preallocate subclusters
	 * under a backing file */
	if (o->preallocate_metadata && o->backing_file)
		return refuse(why, HDI_EUNSUPP, o->extended_l2 ?
			      "a backing file with preallocation is not supported" :
			      "Backing file and preallocation can only be used at the same time if extended_l2 is on");
	/* the compression type field exists from version 3 on */
	if (o->compression_type > QC_COMPRESSION_ZSTD)
		return refuse(why, HDI_EINVAL, "Compression type must be zlib or zstd");
	if (o->version == 2 && o->compression_type != QC_COMPRESSION_ZLIB)
		return refuse(why, HDI_EINVAL, "Non-zlib compression type is only supported with compatibility level 1.1 and above (use version=v3 or greater)");
	if (o->backing_format && !str_eq(o->backing_format, "raw") &&
	    !str_eq(o->backing_format, "qcow2"))
		return refuse(why, HDI_EINVAL, "Backing format must be raw or qcow2");
	if (o->backing_file && !o->backing_file[0])
		return refuse(why, HDI_EINVAL, "Backing file name is empty");
	if (o->backing_file && str_len(o->backing_file) >= HDI_QCOW2_NAME_MAX)
		return refuse(why, HDI_EINVAL, "Backing file name is too long");
	return HDI_OK;
}

/* The refcount structures must count themselves: iterate to the fixed
 * point, as QEMU's qcow2_refcount_metadata_size does. */
static int plan(const struct hdi_qcow2_create_opts *o, struct layout *l)
{
	unsigned l2_bits, rpb_bits, rte_bits;
	uint64_t fixed, last = 0, n = 0, l1_bytes;
	l->cbits = o->cluster_bits;
	l->rorder = (uint32_t)order_of(o->refcount_bits);
	l->cs = 1ull << l->cbits;
	l2_bits = l->cbits - (o->extended_l2 ? 4u : 3u);  /* entries per L2 */
	l->l1_entries = div_up_pow2(o->size, l->cbits + l2_bits);
	l1_bytes = l->l1_entries << 3;
	if (l1_bytes > QC_MAX_L1_BYTES)
		return HDI_EINVAL;   /* the caller names it: size too large */
	l->l1_clusters = div_up_pow2(l1_bytes, l->cbits);
	rpb_bits = l->cbits + 3u - l->rorder;
	rte_bits = l->cbits - 3u;
	fixed = 1u + l->l1_clusters;
	l->rt_clusters = l->rb_clusters = 0;
	do {
		last = n;
		l->rb_clusters = div_up_pow2(fixed + l->rt_clusters +
					     l->rb_clusters, rpb_bits);
		l->rt_clusters = div_up_pow2(l->rb_clusters, rte_bits);
		n = fixed + l->rt_clusters + l->rb_clusters;
	} while (n != last);
	l->total = n;
	l->rt_off = l->cs;
	l->rb_off = l->rt_off + (l->rt_clusters << l->cbits);
	l->l1_off = l->rb_off + (l->rb_clusters << l->cbits);
	return HDI_OK;
}

static uint32_t ext_add(uint8_t *h, uint32_t at, uint32_t magic,
			const void *data, uint32_t len)
{
	hdi_st_be32(h + at, magic);
	hdi_st_be32(h + at + 4, len);
	if (len)
		memcpy(h + at + 8, data, len);
	return at + 8u + ((len + 7u) & ~7u);
}

struct feat { uint8_t type, bit; const char *name; };
static const struct feat features[] = {
	{ 0, 0, "dirty bit" }, { 0, 1, "corrupt bit" },
	{ 0, 2, "external data file" }, { 0, 3, "compression type" },
	{ 0, 4, "extended L2 entries" }, { 1, 0, "lazy refcounts" },
	{ 2, 0, "bitmaps" }, { 2, 1, "raw external data" },
};

/* The bytes build_header writes: header, extensions, end marker, name. */
static uint32_t header_len(const struct hdi_qcow2_create_opts *o,
			   const struct layout *l)
{
	uint32_t at = o->version >= 3 ? QC_V3_HDR_LEN : QC_V2_HDR_LEN;
	if (o->backing_format)
		at += 8u + (((uint32_t)str_len(o->backing_format) + 7u) & ~7u);
	if (o->version >= 3 && l->cs > 4096u)
		at += 8u + 48u * (uint32_t)HDI_ARRAY_SIZE(features);
	return at + 8u + (uint32_t)str_len(o->backing_file);
}

int hdi_qcow2_create_check(const struct hdi_qcow2_create_opts *o,
			   const char **why)
{
	struct layout l;
	int r;
	if (why)
		*why = "";
	if (!o)
		return refuse(why, HDI_EINVAL, "no options");
	r = validate(o, why);
	if (r < 0)
		return r;
	if (plan(o, &l) < 0)
		return refuse(why, HDI_EINVAL, "The image size is too large for file format 'qcow2' (try using a larger cluster size)");
	if (header_len(o, &l) > l.cs || header_len(o, &l) > QC_HDR_BUF)
		return refuse(why, HDI_EINVAL, "Backing file name is too long for the header cluster (try a larger cluster size)");
	return HDI_OK;
}

/* Builds header + extensions + backing name into h (zeroed, QC_HDR_BUF). */
static int build_header(const struct hdi_qcow2_create_opts *o,
			struct layout *l, uint8_t *h)
{
	uint32_t at, i, bl = (uint32_t)str_len(o->backing_file);
	uint64_t incompat = 0;
	memset(h, 0, QC_HDR_BUF);
	hdi_st_be32(h + 0, QC_MAGIC);
	hdi_st_be32(h + 4, o->version);
	hdi_st_be32(h + 20, l->cbits);
	hdi_st_be64(h + 24, o->size);
	hdi_st_be32(h + 36, (uint32_t)l->l1_entries);
	hdi_st_be64(h + 40, l->l1_entries ? l->l1_off : 0);
	hdi_st_be64(h + 48, l->rt_off);
	hdi_st_be32(h + 56, (uint32_t)l->rt_clusters);
	at = QC_V2_HDR_LEN;
	if (o->version >= 3) {
		if (o->extended_l2)
			incompat |= HDI_QCOW2_INCOMPAT_EXTL2;
		if (o->compression_type != QC_COMPRESSION_ZLIB)
			incompat |= HDI_QCOW2_INCOMPAT_COMPRESSION;
		h[QC_HDR_COMPRESSION_OFF] = (uint8_t)o->compression_type;
		hdi_st_be64(h + 72, incompat);
		hdi_st_be64(h + 80, o->lazy_refcounts ?
			    HDI_QCOW2_COMPAT_LAZY_REFCOUNTS : 0);
		hdi_st_be32(h + 96, l->rorder);
		hdi_st_be32(h + 100, QC_V3_HDR_LEN);
		at = QC_V3_HDR_LEN;
	}
	if (o->backing_format)
		at = ext_add(h, at, QC_EXT_BACKING_FMT, o->backing_format,
			     (uint32_t)str_len(o->backing_format));
	/* QEMU omits the optional name table for clusters of 4 KiB and less
	 * so a backing name still fits in a 512-byte header cluster. */
	if (o->version >= 3 && l->cs > 4096u) {
		uint32_t start = at;
		at += 8u;
		for (i = 0; i < HDI_ARRAY_SIZE(features); i++, at += 48u) {
			h[at] = features[i].type;
			h[at + 1] = features[i].bit;
			memcpy(h + at + 2, features[i].name,
			       str_len(features[i].name));
		}
		hdi_st_be32(h + start, QC_EXT_FEATURES);
		hdi_st_be32(h + start + 4, at - start - 8u);
	}
	at = ext_add(h, at, 0, 0, 0);
	if (bl) {
		if (at + bl > l->cs || at + bl > QC_HDR_BUF)
			return HDI_EINVAL;   /* name does not fit the header cluster */
		memcpy(h + at, o->backing_file, bl);
		hdi_st_be64(h + 8, at);
		hdi_st_be32(h + 16, bl);
		at += bl;
	}
	if (at > l->cs)
		return HDI_EINVAL;
	l->hdr_len = at;
	return HDI_OK;
}

/* Puts refcount 1 for cluster c into the chunk at file offset a, if its
 * entry lies there. Sub-byte widths are packed low bits first within a
 * byte (as QEMU does); wider ones are big-endian, so 1 is the last byte. */
static void set_ref1(const struct layout *l, uint8_t *buf, uint64_t a,
		     size_t n, uint64_t c)
{
	uint64_t bit = c << l->rorder, pos = l->rb_off + (bit >> 3);
	if (l->rorder >= 3)
		pos += (1u << (l->rorder - 3u)) - 1u;
	if (pos < a || pos >= a + n)
		return;
	if (l->rorder < 3)
		buf[pos - a] |= (uint8_t)(1u << (bit & 7u));
	else
		buf[pos - a] = 1u;
}

/* Fills chunk [a, a+n) of the file image; returns how many leading bytes
 * hold everything non-zero (0: all zero). */
static size_t fill_chunk(const struct layout *l, const uint8_t *hdr,
		       uint8_t *buf, uint64_t a, size_t n)
{
	uint64_t b = a + n, lo, hi, i, used = 0;
	memset(buf, 0, n);
	if (a < l->hdr_len) {
		used = hdi_min64(l->hdr_len - a, n);
		memcpy(buf, hdr + a, (size_t)used);
	}
	/* refcount table: entry i points at refcount block i */
	if (b > l->rt_off && a < l->rt_off + (l->rb_clusters << 3)) {
		lo = a > l->rt_off ? (a - l->rt_off) >> 3 : 0;
		hi = hdi_min64(l->rb_clusters, (b - l->rt_off + 7u) >> 3);
		for (i = lo; i < hi; i++) {
			uint64_t at = l->rt_off + (i << 3);
			if (at >= a && at + 8u <= b) {
				hdi_st_be64(buf + (at - a),
					    l->rb_off + (i << l->cbits));
				used = hdi_max64(used, at + 8u - a);
			}
		}
	}
	/* refcount blocks: clusters 0..total-1 have refcount 1; the blocks
	 * are contiguous, so cluster c's count sits at bit c << rorder. */
	if (b > l->rb_off) {
		uint64_t end_bit = l->total << l->rorder;
		uint64_t a_bit = a > l->rb_off ? (a - l->rb_off) << 3 : 0;
		uint64_t b_bit = (b - l->rb_off) << 3;
		if (a_bit < end_bit) {
			lo = a_bit >> l->rorder;
			hi = hdi_min64(l->total, (b_bit >> l->rorder) + 1u);
			for (i = lo; i < hi; i++)
				set_ref1(l, buf, a, n, i);
			if (hi > lo)
				used = hdi_max64(used, hdi_min64(n,
					l->rb_off + (((hi << l->rorder) + 7u) >> 3) - a + 8u));
		}
	}
	return (size_t)used;
}

/* Opens the new image and gives every cluster its host cluster. */
static int preallocate(struct hdi_bdev *file, void *ws, size_t ws_size)
{
	struct hdi_qcow2_opts o;
	hdi_qcow2_t h;
	int r, r2;
	memset(&o, 0, sizeof o);
	o.flags = HDI_QCOW2_RDWR;
	o.workspace = ws;
	o.workspace_size = ws_size;
	r = hdi_qcow2_open(&h, file, &o);
	if (r < 0)
		return r;
	r = hdi_qcw_preallocate(hdi_qc(&h));
	r2 = hdi_qcow2_close(&h);
	return r < 0 ? r : r2;
}

int hdi_qcow2_create(struct hdi_bdev *file,
		     const struct hdi_qcow2_create_opts *o,
		     void *workspace, size_t workspace_size)
{
	struct layout l;
	uint8_t *hdr = workspace, *buf;
	uint64_t dev_size, end, off;
	size_t chunk, hdr_n = 0;
	uint32_t g;
	int r;
	if (!file || !o || !workspace)
		return HDI_EINVAL;
	g = file->granule;
	if (!g || !hdi_is_pow2(g) || g > HDI_GRANULE_MAX)
		return HDI_EINVAL;
	if (workspace_size < QC_HDR_BUF + 512u ||
	    workspace_size < QC_HDR_BUF + g)
		return HDI_ENOMEM;
	r = hdi_qcow2_create_check(o, NULL);
	if (r == HDI_OK && o->preallocate_metadata &&
	    workspace_size < HDI_QCOW2_WORKSPACE_MIN)
		r = HDI_ENOMEM;
	if (r == HDI_OK)
		r = plan(o, &l);
	if (r == HDI_OK)
		r = build_header(o, &l, hdr);
	if (r < 0)
		return r;
	buf = hdr + QC_HDR_BUF;
	chunk = (workspace_size - QC_HDR_BUF) & ~(size_t)(g - 1u);
	chunk &= ~(size_t)511u;
	end = l.total << l.cbits;
	end = (end + g - 1u) & ~(uint64_t)(g - 1u);
	r = hdi_bdev_size(file, &dev_size);
	if (r < 0)
		return r;
	/* Space a grow adds reads as zero, so only non-zero chunks need
	 * writing there; old contents below dev_size must be overwritten. */
	r = hdi_bdev_ensure_size(file, end);
	if (r < 0)
		return r;
	/* The header goes last, after a flush: a crash mid-create leaves
	 * no valid-looking image. */
	for (off = 0; off < end; off += chunk) {
		size_t n = (size_t)hdi_min64(chunk, end - off);
		size_t used = fill_chunk(&l, hdr, buf, off, n);
		/* past the old end, trailing zeros are already there */
		if (off + n > dev_size) {
			uint64_t keep = off < dev_size ? dev_size - off : 0;
			keep = hdi_max64(keep, used);
			n = (size_t)((keep + g - 1u) & ~(uint64_t)(g - 1u));
		}
		if (off == 0) {
			hdr_n = n;    /* written last */
			continue;
		}
		r = hdi_bdev_write(file, off, buf, n);
		if (r < 0)
			return r;
	}
	r = hdi_bdev_flush(file);
	if (r < 0)
		return r;
	fill_chunk(&l, hdr, buf, 0, (size_t)hdi_min64(chunk, end));
	r = hdi_bdev_write(file, 0, buf, hdr_n);
	if (r == HDI_OK)
		r = hdi_bdev_flush(file);
	if (r == HDI_OK && o->preallocate_metadata)
		r = preallocate(file, workspace, workspace_size);
	return r;
}

#endif /* !HDI_CONFIG_READONLY */
