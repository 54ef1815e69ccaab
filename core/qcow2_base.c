/* core/qcow2_base.c: the bottom of the qcow2 driver: error codes with
 * their message text, and byte-granular access to the image file. */
#include "qcow2_int.h"

/* ---- errors ------------------------------------------------------------- */
int hdi_qc_err(struct qcow2 *q, int code, const char *msg)
{
	q->errmsg = msg;
	return code;
}

static size_t put_str(char *dst, size_t pos, size_t cap, const char *s)
{
	while (*s && pos + 1 < cap)
		dst[pos++] = *s++;
	dst[pos] = 0;
	return pos;
}

/* v / 10 in 16-bit steps, so no 64-bit division reaches libgcc. */
static uint64_t div10(uint64_t v, unsigned *rem)
{
	uint64_t quo = 0;
	uint32_t r = 0;
	int sh;
	for (sh = 48; sh >= 0; sh -= 16) {
		uint32_t cur = (r << 16) | (uint32_t)((v >> sh) & 0xffffu);
		quo |= (uint64_t)(cur / 10u) << sh;
		r = cur % 10u;
	}
	*rem = r;
	return quo;
}

static size_t put_u64(char *dst, size_t pos, size_t cap, uint64_t v)
{
	char tmp[21];
	size_t n = 0;
	unsigned d;
	do {
		v = div10(v, &d);
		tmp[n++] = (char)('0' + d);
	} while (v);
	while (n && pos + 1 < cap)
		dst[pos++] = tmp[--n];
	dst[pos] = 0;
	return pos;
}

int hdi_qc_err_num(struct qcow2 *q, int code, const char *prefix,
		   uint64_t num, const char *suffix)
{
	size_t p = put_str(q->errbuf, 0, QC_ERRBUF, prefix);
	p = put_u64(q->errbuf, p, QC_ERRBUF, num);
	put_str(q->errbuf, p, QC_ERRBUF, suffix ? suffix : "");
	q->errmsg = q->errbuf;
	return code;
}

int hdi_qc_err_str(struct qcow2 *q, int code, const char *prefix,
		   const char *text, size_t len)
{
	size_t p = put_str(q->errbuf, 0, QC_ERRBUF, prefix), i;
	for (i = 0; i < len && text[i] && p + 1 < QC_ERRBUF; i++) {
		char ch = text[i];
		q->errbuf[p++] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
	}
	q->errbuf[p] = 0;
	q->errmsg = q->errbuf;
	return code;
}

/* ---- file access -------------------------------------------------------- */
int hdi_qc_pread(struct qcow2 *q, uint64_t off, void *buf, size_t len)
{
	return hdi_bdev_pread(q->file, off, buf, len, q->bounce);
}

int hdi_qc_pwrite(struct qcow2 *q, uint64_t off, const void *buf, size_t len)
{
	uint64_t end;
	int r;
	if (!hdi_add_ok(off, len, &end))
		return HDI_EINVAL;
	if (end > q->file_size) {
		r = hdi_bdev_ensure_size(q->file, end);
		if (r < 0)
			return r;
		q->file_size = end;
	}
	return hdi_bdev_pwrite(q->file, off, buf, len, q->bounce);
}

bool hdi_qc_in_file(const struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint64_t end;
	return hdi_add_ok(off, len, &end) && end <= q->file_size;
}

const char *hdi_qcow2_errmsg(const hdi_qcow2_t *h)
{
	const struct qcow2 *q = hdi_qc_c(h);
	return q && q->errmsg ? q->errmsg : "";
}
