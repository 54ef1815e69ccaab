/* core/qcow2_header_write.c: rebuilding the header cluster for amend and
 * rebase: version (v2 <-> v3 layout), compatible bits, backing file name
 * and format. The new header, extensions and name are composed in scratch
 * and written in one go (QEMU's qcow2_update_header). */
#include "qcow2_hdr.h"

#if !HDI_CONFIG_READONLY

#define V3_HDR_LEN 112u   /* with the compression type byte, as QEMU */

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s && s[n])
		n++;
	return n;
}

static bool keep_ext(const struct qc_hdr_edit *e, uint32_t type)
{
	if (type == QC_EXT_BACKING_FMT)
		return !e->set_backing;
	/* v2 has no feature bits: no name table, no bitmaps */
	return e->version >= 3 || (type != QC_EXT_FEATURE_TABLE && type != QC_EXT_BITMAPS);
}

/* Extensions of the old header h (up to end) into x; returns their length
 * with the end marker. */
static uint64_t build_exts(struct qcow2 *q, const struct qc_hdr_edit *e,
			   const uint8_t *h, uint64_t end, uint8_t *x, uint64_t hlen)
{
	uint64_t in = q->header_length, out = 0;
	uint32_t fl = (uint32_t)slen(e->fmt);
	if (e->set_backing && fl) {
		hdi_st_be32(x, QC_EXT_BACKING_FMT);
		hdi_st_be32(x + 4, fl);
		memset(x + 8, 0, (fl + 7u) & ~7u);
		memcpy(x + 8, e->fmt, fl);
		out = 8u + ((fl + 7u) & ~7u);
	}
	q->feature_table_offset = 0;
	while (in + 8u <= end) {
		uint32_t type = hdi_ld_be32(h + in), len = hdi_ld_be32(h + in + 4);
		uint64_t sz = 8u + (((uint64_t)len + 7u) & ~7ull);
		if (type == QC_EXT_END || in + sz > end)
			break;
		if (keep_ext(e, type)) {
			memcpy(x + out, h + in, (size_t)sz);
			if (type == QC_EXT_FEATURE_TABLE)
				q->feature_table_offset = hlen + out + 8u;
			out += sz;
		}
		in += sz;
	}
	memset(x + out, 0, 8);
	return out + 8u;
}

/* The fixed header fields for the new version into x. */
static uint64_t build_fixed(struct qcow2 *q, const struct qc_hdr_edit *e,
			    const uint8_t *h, uint8_t *x)
{
	uint64_t hlen = e->version >= 3 ?
		(q->version >= 3 ? q->header_length : V3_HDR_LEN) : QC_V2_HEADER_LEN;
	memcpy(x, h, (size_t)(q->version >= 3 && e->version >= 3 ? hlen : QC_V2_HEADER_LEN));
	hdi_st_be32(x + 4, e->version);
	if (e->version >= 3) {
		if (q->version < 3) {
			memset(x + QC_V2_HEADER_LEN, 0, (size_t)(hlen - QC_V2_HEADER_LEN));
			hdi_st_be32(x + 96, 4);   /* refcount_order: 16 bits */
		}
		hdi_st_be64(x + 80, e->compat);
		hdi_st_be32(x + 100, (uint32_t)hlen);
	}
	return hlen;
}

int hdi_qch_rewrite(struct qcow2 *q, const struct qc_hdr_edit *e)
{
	size_t half = q->scratch_size / 2u;
	uint8_t *h = q->scratch, *x = q->scratch + half;
	uint64_t end = q->ext_end, hlen, xl, nl, newend;
	int r;
	if (q->backing_name_offset + q->backing_name_size > end)
		end = q->backing_name_offset + q->backing_name_size;
	nl = e->set_backing ? slen(e->name) : q->backing_name_size;
	if (nl > QC_MAX_BACKING_NAME || slen(e->fmt) >= sizeof q->backing_fmt)
		return hdi_qc_err(q, HDI_EINVAL, "backing file name or format too long");
	if (end > half || end > q->cluster_size)
		return hdi_qc_err(q, HDI_EUNSUPP, "header extensions too large to rewrite");
	r = hdi_qc_pread(q, 0, h, (size_t)end);
	if (r < 0)
		return r;
	hlen = build_fixed(q, e, h, x);
	xl = build_exts(q, e, h, end, x + hlen, hlen);
	newend = hlen + xl + nl;
	if (newend > half || newend > q->cluster_size)
		return hdi_qc_err(q, HDI_EINVAL, "backing file name does not fit in the header");
	memcpy(x + hlen + xl, e->set_backing ? (const uint8_t *)e->name :
	       h + q->backing_name_offset, (size_t)nl);
	if (newend < end)
		memset(x + newend, 0, (size_t)(end - newend));
	hdi_st_be64(x + 8, nl ? hlen + xl : 0);
	hdi_st_be32(x + 16, (uint32_t)nl);
	r = hdi_qcw_header_write(q, 0, x, (uint32_t)hdi_max64(end, newend));
	if (r < 0)
		return r;
	q->version = e->version;
	q->header_length = (uint32_t)hlen;
	q->ext_end = hlen + xl;
	q->backing_name_offset = nl ? q->ext_end : 0;
	q->backing_name_size = (uint32_t)nl;
	if (e->set_backing) {
		memset(q->backing_fmt, 0, sizeof q->backing_fmt);
		memcpy(q->backing_fmt, e->fmt ? e->fmt : "", slen(e->fmt));
	}
	if (e->version < 3) {
		q->incompat = q->compat = q->autoclear = 0;
		q->compression_type = QC_COMPRESSION_ZLIB;
	}
	else
		q->compat = e->compat;
	return HDI_OK;
}

#endif /* !HDI_CONFIG_READONLY */
