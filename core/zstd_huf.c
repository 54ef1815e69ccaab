/* core/zstd_huf.c: Huffman-coded literals (RFC 8878 4.2): the tree
 * description (weights, direct or FSE-compressed), the decoding table, and
 * the 1- or 4-stream bitstreams. */
#include "zstd_int.h"

#if HDI_CONFIG_ZSTD

/* The weights' FSE stream: two interleaved states over one table, read
 * until the stream is exhausted (the last symbol comes from the state that
 * did not overflow). Returns the number of weights or HDI_ECORRUPT. */
static int fse_weights(struct zs_work *w, const uint8_t *src, size_t len)
{
	unsigned max_sym = 255, log, n = 0;
	struct zs_br b;
	uint32_t st[2];
	int used = hdi_zs_ncount(w, src, len, &max_sym, &log, ZS_HW_LOG);
	if (used < 0)
		return used;
	hdi_zs_fse_build(w, w->hw_t, max_sym, log);
	if (zs_br_init(&b, src + used, len - (size_t)used) < 0)
		return HDI_ECORRUPT;
	st[0] = zs_br_get(&b, log);
	st[1] = zs_br_get(&b, log);
	if (b.over)
		return ZS_STRICT();
	for (;;) {
		unsigned i = n & 1;
		const struct zs_fse *e = &w->hw_t[st[i]];
		if (n > 253)
			return HDI_ECORRUPT;
		w->weights[n++] = e->sym;
		zs_br_fill(&b);
		st[i] = e->base + zs_br_get(&b, e->bits);
		if (b.over) {
			w->weights[n++] = w->hw_t[st[i ^ 1]].sym;
			return (int)n;
		}
	}
}

/* Weights to the table: a symbol of weight W owns 1 << (W - 1) cells and
 * reads log + 1 - W bits; cells go by rising weight, then symbol order. */
static int build(struct zs_work *w, unsigned n)
{
	uint32_t total = 0, rest, rank[ZS_HUF_LOG + 2] = { 0 };
	uint32_t start[ZS_HUF_LOG + 2];
	unsigned s, log, k, last;
	for (s = 0; s < n; s++) {
		if (w->weights[s] > ZS_HUF_LOG)
			return HDI_ECORRUPT;
		rank[w->weights[s]]++;
		total += (1u << w->weights[s]) >> 1;
	}
	if (!total)
		return HDI_ECORRUPT;
	log = zs_highbit(total) + 1;
	if (log > ZS_HUF_LOG)
		return HDI_ECORRUPT;
	/* the last symbol's weight completes the sum to a power of two */
	rest = (1u << log) - total;
	if (rest & (rest - 1))
		return HDI_ECORRUPT;
	last = zs_highbit(rest) + 1;
	w->weights[n] = (uint8_t)last;
	rank[last]++;
	if (rank[1] < 2 || (rank[1] & 1))
		return HDI_ECORRUPT;
	start[1] = 0;
	for (k = 1; k <= log; k++)
		start[k + 1] = start[k] + (rank[k] << (k - 1));
	for (s = 0; s <= n; s++) {
		unsigned wt = w->weights[s];
		uint32_t c, len;
		uint16_t e;
		if (!wt)
			continue;
		len = 1u << (wt - 1);
		e = (uint16_t)(s | ((log + 1 - wt) << 8));
		for (c = 0; c < len; c++)
			w->huf[start[wt] + c] = e;
		start[wt] += len;
	}
	w->huf_log = (uint8_t)log;
	return HDI_OK;
}

int hdi_zs_huf_read(struct zs_work *w, const uint8_t *src, size_t len)
{
	unsigned hdr, n, i;
	int r;
	size_t used;
	if (!len)
		return HDI_ECORRUPT;
	w->huf_log = 0;
	hdr = src[0];
	if (hdr >= 128) {
		n = hdr - 127;
		used = 1 + (n + 1) / 2;
		if (used > len)
			return HDI_ECORRUPT;
		for (i = 0; i < n; i++)
			w->weights[i] = (uint8_t)((src[1 + i / 2] >> ((i & 1) ? 0 : 4)) & 15u);
	} else {
		used = 1 + hdr;
		if (used > len)
			return HDI_ECORRUPT;
		r = fse_weights(w, src + 1, hdr);
		if (r < 0)
			return r;
		n = (unsigned)r;
	}
	r = build(w, n);
	return r < 0 ? r : (int)used;
}

/* One stream: exactly n symbols, and every bit used. */
static int stream(const struct zs_work *w, uint8_t *out, size_t n,
		  const uint8_t *src, size_t len, bool four)
{
	unsigned log = w->huf_log;
	struct zs_br b;
	size_t i = 0;
	if (zs_br_init(&b, src, len) < 0)
		return four ? ZS_STRICT() : HDI_ECORRUPT;
	/* the hot loop: four codes of at most 12 bits per refill to >= 57
	 * bits, in locals the compiler keeps in registers */
	while (i + 4 <= n && b.n >= 4 * log) {
		uint64_t c = b.c;
		unsigned k = b.n, j;
		uint32_t mask = (1u << log) - 1u;
		for (j = 0; j < 4; j++) {
			uint16_t e = w->huf[(uint32_t)(c >> (k - log)) & mask];
			out[i++] = (uint8_t)e;
			k -= e >> 8;
		}
		b.n = k;
		zs_br_fill(&b);
	}
	/* the stream's end, where fewer bits are left */
	for (; i < n; i++) {
		uint16_t e = w->huf[zs_br_peek(&b, log)];
		out[i] = (uint8_t)e;
		zs_br_skip(&b, e >> 8);
		zs_br_fill(&b);
	}
	if (zs_br_done(&b))
		return HDI_OK;
	return four ? ZS_STRICT() : HDI_ECORRUPT;
}

int hdi_zs_huf_decode(const struct zs_work *w, uint8_t *out, size_t n,
		      const uint8_t *src, size_t len, bool four)
{
	size_t seg, sz[4], k, off;
	int r;
	if (!w->huf_log)
		return HDI_ECORRUPT;
	if (!four)
		return stream(w, out, n, src, len, false);
	if (len < 10 || n < 6)
		return HDI_ECORRUPT;
	sz[0] = hdi_ld_le16(src);
	sz[1] = hdi_ld_le16(src + 2);
	sz[2] = hdi_ld_le16(src + 4);
	if (sz[0] + sz[1] + sz[2] + 6 > len)
		return HDI_ECORRUPT;
	sz[3] = len - 6 - sz[0] - sz[1] - sz[2];
	seg = (n + 3) / 4;
	off = 6;
	for (k = 0; k < 4; k++) {
		size_t cnt = k < 3 ? seg : n - 3 * seg;
		r = stream(w, out + k * seg, cnt, src + off, sz[k], true);
		if (r < 0)
			return r;
		off += sz[k];
	}
	return HDI_OK;
}

#endif /* HDI_CONFIG_ZSTD */
