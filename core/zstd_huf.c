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
	if (zs_br_over(&b))
		return ZS_STRICT();
	for (;;) {
		unsigned i = n & 1;
		const struct zs_fse *e = &w->hw_t[st[i]];
		if (n > 253)
			return HDI_ECORRUPT;
		w->weights[n++] = e->sym;
		zs_br_fill(&b);
		st[i] = e->base + zs_br_get(&b, e->bits);
		if (zs_br_over(&b)) {
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

/* One code: the table entry is symbol | code length << 8. Past a
 * stream's start the reader yields zeros, so its last codes decode. */
static inline uint8_t sym(const uint16_t *huf, unsigned log, struct zs_br *b)
{
	uint16_t e = huf[(b->c << (b->used & 63u)) >> (64u - log)];
	b->used += e >> 8;
	return (uint8_t)e;
}

/* The rest of a stream, from out[i] to out[n]: all of it and every bit. */
static int finish(const struct zs_work *w, uint8_t *out, size_t i, size_t n,
		  struct zs_br *b, bool four)
{
	unsigned log = w->huf_log;
	/* four codes of at most 12 bits per load, while loads are cheap */
	for (; i + 4 <= n && zs_br_fast(b); i += 4) {
		zs_br_fill_fast(b);
		out[i] = sym(w->huf, log, b);
		out[i + 1] = sym(w->huf, log, b);
		out[i + 2] = sym(w->huf, log, b);
		out[i + 3] = sym(w->huf, log, b);
	}
	for (; i < n; i++) {
		zs_br_fill(b);
		out[i] = sym(w->huf, log, b);
	}
	if (zs_br_done(b))
		return HDI_OK;
	return four ? ZS_STRICT() : HDI_ECORRUPT;
}

/* One fill of each stream, then k codes from each, interleaved. */
static inline void huf_round(const uint16_t *huf, unsigned log,
			     struct zs_br b[4], uint8_t *o0, uint8_t *o1,
			     uint8_t *o2, uint8_t *o3, size_t i, unsigned k)
{
	unsigned j;
	zs_br_fill_fast(&b[0]);
	zs_br_fill_fast(&b[1]);
	zs_br_fill_fast(&b[2]);
	zs_br_fill_fast(&b[3]);
	for (j = 0; j < k; j++) {
		o0[i + j] = sym(huf, log, &b[0]);
		o1[i + j] = sym(huf, log, &b[1]);
		o2[i + j] = sym(huf, log, &b[2]);
		o3[i + j] = sym(huf, log, &b[3]);
	}
}

/* Four streams of seg bytes each (the last one shorter), decoded side by
 * side while all four can load cheaply, so their lookups overlap. */
static int four(const struct zs_work *w, uint8_t *out, size_t n,
		const uint8_t *src, size_t len)
{
	const uint16_t *huf = w->huf;
	unsigned log = w->huf_log;
	size_t seg = (n + 3) / 4, last = n - 3 * seg, sz[4], off = 6, i = 0, k;
	struct zs_br b[4];
	uint8_t *o1 = out + seg, *o2 = o1 + seg, *o3 = o2 + seg;
	int r = HDI_OK;
	if (len < 10 || n < 6)
		return HDI_ECORRUPT;
	sz[0] = hdi_ld_le16(src);
	sz[1] = hdi_ld_le16(src + 2);
	sz[2] = hdi_ld_le16(src + 4);
	if (sz[0] + sz[1] + sz[2] + 6 > len)
		return HDI_ECORRUPT;
	sz[3] = len - 6 - sz[0] - sz[1] - sz[2];
	for (k = 0; k < 4; k++) {
		if (zs_br_init(&b[k], src + off, sz[k]) < 0)
			return ZS_STRICT();
		off += sz[k];
	}
	/* a fill leaves 57 bits: five codes when they are at most 11 bits
	 * long, as libzstd writes them, else four */
	if (log <= 11) {
		for (; i + 5 <= last && zs_br_fast(&b[0]) && zs_br_fast(&b[1]) &&
		       zs_br_fast(&b[2]) && zs_br_fast(&b[3]); i += 5)
			huf_round(huf, log, b, out, o1, o2, o3, i, 5);
	}
	for (; i + 4 <= last && zs_br_fast(&b[0]) && zs_br_fast(&b[1]) &&
	       zs_br_fast(&b[2]) && zs_br_fast(&b[3]); i += 4)
		huf_round(huf, log, b, out, o1, o2, o3, i, 4);
	for (k = 0; k < 4 && r == HDI_OK; k++)
		r = finish(w, out + k * seg, i, k < 3 ? seg : last, &b[k], true);
	return r;
}

int hdi_zs_huf_decode(const struct zs_work *w, uint8_t *out, size_t n,
		      const uint8_t *src, size_t len, bool four_streams)
{
	struct zs_br b;
	if (!w->huf_log)
		return HDI_ECORRUPT;
	if (four_streams)
		return four(w, out, n, src, len);
	if (zs_br_init(&b, src, len) < 0)
		return HDI_ECORRUPT;
	return finish(w, out, 0, n, &b, false);
}

#endif /* HDI_CONFIG_ZSTD */
