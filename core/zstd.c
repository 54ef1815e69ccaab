/* core/zstd.c: Zstandard frames and blocks (RFC 8878 3.1): frame headers,
 * raw/RLE/compressed blocks, the literals section, FSE-coded sequences and
 * their execution into the caller's one output buffer. */
#include "zstd_int.h"

#if HDI_CONFIG_ZSTD

#ifdef HDI_ZSTD_TEST_HOOKS
int hdi_zstd_strict;
#endif

#define MAGIC      0xFD2FB528u
#define SKIP_MAGIC 0x184D2A50u          /* low 4 bits are free */
#define WINDOW_MAX ((1ull << 27) + 1)   /* libzstd's streaming limit */

struct zs {
	struct zs_work *w;
	uint8_t *op, *end;          /* next output byte; end of dst */
	uint8_t *frame;             /* the current frame's first output byte */
	const uint8_t *lit;         /* the block's literals not yet copied */
	size_t lit_n;
	const uint8_t *lit_lim;     /* literals may be read (not used) up to here */
	const uint8_t *src_end;
	size_t in_max, out_max;     /* a block's content and output caps */
};

/* ---- literals section ---------------------------------------------------- */
/* Compressed and RLE literals are decoded into the tail of dst: sequence
 * execution writes below them and never overtakes the ones still unread
 * (the per-sequence space check in exec() keeps it so). */
static int literals(struct zs *z, const uint8_t *src, size_t len, size_t *used)
{
	unsigned type = src[0] & 3u, sf = (src[0] >> 2) & 3u;
	size_t regen, csize, hdr, room = (size_t)(z->end - z->op);
	uint8_t *out;
	int r;
	if (type < 2) {
		hdr = sf == 1 ? 2 : sf == 3 ? 3 : 1;
		if (len < hdr)
			return HDI_ECORRUPT;
		regen = sf == 1 ? (size_t)hdi_ld_le16(src) >> 4 :
			sf == 3 ? (size_t)(hdi_ld_le16(src) | ((uint32_t)src[2] << 16)) >> 4 :
			(size_t)src[0] >> 3;
		if (regen > room || regen > ZS_BLOCK_MAX)
			return HDI_ECORRUPT;
		if (type == 0) {
			if (regen > len - hdr)
				return HDI_ECORRUPT;
			z->lit = src + hdr;
			z->lit_n = regen;
			z->lit_lim = z->src_end;
			*used = hdr + regen;
			return HDI_OK;
		}
		if (len - hdr < 1)
			return HDI_ECORRUPT;
		out = z->end - regen;
		memset(out, src[hdr], regen);
		z->lit = out;
		z->lit_n = regen;
		z->lit_lim = z->end;
		*used = hdr + 1;
		return HDI_OK;
	}
	hdr = sf < 2 ? 3 : sf == 2 ? 4 : 5;
	if (len < hdr)
		return HDI_ECORRUPT;
	if (sf < 2) {
		uint32_t v = hdi_ld_le16(src) | ((uint32_t)src[2] << 16);
		regen = (v >> 4) & 0x3FFu;
		csize = v >> 14;
	} else if (sf == 2) {
		uint32_t v = hdi_ld_le32(src);
		regen = (v >> 4) & 0x3FFFu;
		csize = v >> 18;
	} else {
		uint32_t v = hdi_ld_le32(src);
		regen = (v >> 4) & 0x3FFFFu;
		csize = (v >> 22) | ((size_t)src[4] << 10);
	}
	if (regen > ZS_BLOCK_MAX || regen > room || csize > len - hdr)
		return HDI_ECORRUPT;
	src += hdr;
	*used = hdr + csize;
	if (type == 2) {
		r = hdi_zs_huf_read(z->w, src, csize);
		if (r < 0)
			return r;
		src += r;
		csize -= (size_t)r;
	}
	out = z->end - regen;
	r = hdi_zs_huf_decode(z->w, out, regen, src, csize, sf != 0);
	if (r < 0)
		return r;
	z->lit = out;
	z->lit_n = regen;
	z->lit_lim = z->end;
	return HDI_OK;
}

/* ---- sequence tables ----------------------------------------------------- */
static const int16_t ll_def[36] = {
	4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1 };
static const int16_t ml_def[53] = {
	1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1 };
static const int16_t of_def[29] = {
	1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1 };

/* What a literals or match length code stands for: a base value, plus
 * that many extra bits (RFC 8878 3.1.1.3.2.1.1); offset code c is
 * 1 << c plus c extra bits. */
static const uint32_t ll_val[ZS_LL_MAX + 1] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096,
	8192, 16384, 32768, 65536 };
static const uint8_t ll_add[ZS_LL_MAX + 1] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint32_t ml_val[ZS_ML_MAX + 1] = {
	3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
	19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
	35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051,
	4099, 8195, 16387, 32771, 65539 };
static const uint8_t ml_add[ZS_ML_MAX + 1] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

struct kind {
	const int16_t *def;
	uint8_t def_max, def_log, max_sym, max_log;
};
static const struct kind k_ll = {
	.def = ll_def, .def_max = 35, .def_log = 6, .max_sym = ZS_LL_MAX,
	.max_log = ZS_LL_LOG };
static const struct kind k_of = {
	.def = of_def, .def_max = 28, .def_log = 5, .max_sym = ZS_OF_MAX,
	.max_log = ZS_OF_LOG };
static const struct kind k_ml = {
	.def = ml_def, .def_max = 52, .def_log = 6, .max_sym = ZS_ML_MAX,
	.max_log = ZS_ML_LOG };

/* One symbol type's table per its Compression_Mode; returns bytes used. */
static int seq_table(struct zs_work *w, struct zs_table *tb, struct zs_fse *space,
		     const struct kind *k, unsigned mode, const uint8_t *src,
		     size_t len, bool repeat_ok)
{
	unsigned max = k->max_sym, log;
	int used = 0;
	switch (mode) {
	case 0:         /* Predefined_Mode */
		memcpy(w->norm, k->def, (k->def_max + 1u) * sizeof(int16_t));
		hdi_zs_fse_build(w, space, k->def_max, k->def_log);
		tb->log = k->def_log;
		break;
	case 1:         /* RLE_Mode */
		if (!len || src[0] > k->max_sym)
			return HDI_ECORRUPT;
		space[0].sym = src[0];
		space[0].bits = 0;
		space[0].base = 0;
		tb->log = 0;
		used = 1;
		break;
	case 2:         /* FSE_Compressed_Mode */
		used = hdi_zs_ncount(w, src, len, &max, &log, k->max_log);
		if (used < 0)
			return used;
		hdi_zs_fse_build(w, space, max, log);
		tb->log = (uint8_t)log;
		break;
	default:        /* Repeat_Mode */
		return repeat_ok ? 0 : HDI_ECORRUPT;
	}
	tb->t = space;
	return used;
}

/* ---- sequence execution ------------------------------------------------- */
/* Short exact copies, 8 bytes at a time (a call costs more). Right when
 * d <= s, or d >= s + 8: each chunk is loaded before it is stored. */
static inline void copy_fwd(uint8_t *d, const uint8_t *s, uint32_t n)
{
	uint64_t v;
	for (; n >= 8; n -= 8, d += 8, s += 8) {
		__builtin_memcpy(&v, s, 8);
		__builtin_memcpy(d, &v, 8);
	}
	while (n--)
		*d++ = *s++;
}

/* 16 bytes, all loaded before any is stored. */
static inline void copy16(uint8_t *d, const uint8_t *s)
{
	uint64_t a, b;
	__builtin_memcpy(&a, s, 8);
	__builtin_memcpy(&b, s + 8, 8);
	__builtin_memcpy(d, &a, 8);
	__builtin_memcpy(d + 8, &b, 8);
}

/* ll literals, then ml bytes from offset back; everything stays in dst. */
static int exec(struct zs *z, uint32_t ll, uint32_t off, uint32_t ml)
{
	uint8_t *op = z->op, *from, *keep;
	if (ll > z->lit_n || ml > (size_t)(z->end - op) - z->lit_n)
		return HDI_ECORRUPT;
	/* Short copies may write up to 16 bytes below `keep`, the first
	 * literal this sequence leaves unread (or dst's end): those bytes are
	 * rewritten later. Copies go forwards: the tail literals are never
	 * below op. */
	keep = z->end - (z->lit_n - ll);
	if (ll <= 16 && (size_t)(keep - op) >= 16 &&
	    (size_t)(z->lit_lim - z->lit) >= 16)
		copy16(op, z->lit);
	else if (ll < 32)
		copy_fwd(op, z->lit, ll);
	else
		memmove(op, z->lit, ll);
	op += ll;
	z->lit += ll;
	z->lit_n -= ll;
	if (off > (size_t)(op - z->frame))
		return HDI_ECORRUPT;
	from = op - off;
	if (ml <= 16 && off >= 16 && (size_t)(keep - op) >= 16) {
		copy16(op, from);
	} else if (ml < 32 && off >= 8) {
		copy_fwd(op, from, ml);
	} else if (off >= ml) {
		memcpy(op, from, ml);
	} else if (off == 1) {
		memset(op, *from, ml);
	} else {
		/* overlapping: each copy doubles the distance it may cover */
		uint32_t left = ml;
		uint8_t *o = op;
		while (left) {
			uint32_t n = (uint32_t)hdi_minsz(left, (size_t)(o - from));
			memcpy(o, from, n);
			o += n;
			left -= n;
		}
	}
	z->op = op + ml;
	return HDI_OK;
}

/* Offset_Value 1-3 are repeat offsets (RFC 8878 3.1.1.5); the offset to
 * use ends up in r[0]. */
static inline void offset(uint32_t r[3], uint32_t ofv, uint32_t ll)
{
	uint32_t off, idx;
	if (ofv > 3) {
		r[2] = r[1];
		r[1] = r[0];
		r[0] = ofv - 3;
		return;
	}
	idx = ofv - 1 + (ll == 0);
	if (!idx)
		return;
	off = idx == 1 ? r[1] : idx == 2 ? r[2] : r[0] - 1;
	off += !off;    /* as libzstd: a zero offset reads as 1 */
	if (idx != 1)
		r[2] = r[1];
	r[1] = r[0];
	r[0] = off;
}

/* The sequences of a block, executed as they are decoded. The decoder's
 * state lives in locals: stores into dst may alias *z, which would
 * otherwise be reloaded after every copy. */
static int run(struct zs *z, uint32_t nb, const uint8_t *src, size_t len)
{
	struct zs_work *w = z->w;
	const struct zs_fse *llt = w->ll.t, *oft = w->of.t, *mlt = w->ml.t;
	struct zs_fse ll, of, ml;
	struct zs s = *z;
	uint32_t rep[3] = { w->rep[0], w->rep[1], w->rep[2] };
	struct zs_br b;
	int r = HDI_OK;
	if (zs_br_init(&b, src, len) < 0)
		return HDI_ECORRUPT;
	/* init leaves at least 56 bits, and the three states take 26 */
	ll = llt[zs_br_get(&b, w->ll.log)];
	of = oft[zs_br_get(&b, w->of.log)];
	ml = mlt[zs_br_get(&b, w->ml.log)];
	for (;;) {
		uint32_t l, m, o;
		/* 57 bits after a fill; an offset over 25 bits needs another
		 * before the two lengths' 32 */
		zs_br_fill(&b);
		o = (1u << of.sym) + zs_br_get(&b, of.sym);
		if (of.sym > 25)
			zs_br_fill(&b);
		m = ml.sym < 32 ? ml.sym + 3u :
		    ml_val[ml.sym] + zs_br_get(&b, ml_add[ml.sym]);
		l = ll.sym < 16 ? ll.sym :
		    ll_val[ll.sym] + zs_br_get(&b, ll_add[ll.sym]);
		if (zs_br_over(&b)) {
			r = ZS_STRICT();
			break;
		}
		offset(rep, o, l);
		r = exec(&s, l, rep[0], m);
		if (r < 0 || !--nb)
			break;
		/* the states take 26 bits at most */
		if (b.used > 38)
			zs_br_fill(&b);
		ll = llt[ll.base + zs_br_get(&b, ll.bits)];
		ml = mlt[ml.base + zs_br_get(&b, ml.bits)];
		of = oft[of.base + zs_br_get(&b, of.bits)];
	}
	z->op = s.op;
	z->lit = s.lit;
	z->lit_n = s.lit_n;
	memcpy(w->rep, rep, sizeof rep);
	if (r < 0)
		return r;
	/* Every bit used. libzstd also updates the states after the last
	 * sequence and accepts a stream those reads would finish. */
	if (zs_br_left(&b) > (uint64_t)ll.bits + ml.bits + of.bits)
		return HDI_ECORRUPT;
	return HDI_OK;
}

static int sequences(struct zs *z, const uint8_t *src, size_t len)
{
	struct zs_work *w = z->w;
	uint32_t nb;
	size_t p = 1;
	unsigned modes;
	int r;
	if (!len)
		return HDI_ECORRUPT;
	nb = src[0];
	if (!nb)
		return len == 1 ? HDI_OK : HDI_ECORRUPT;
	if (nb == 255) {
		if (len < 3)
			return HDI_ECORRUPT;
		nb = hdi_ld_le16(src + 1) + 0x7F00u;
		p = 3;
	} else if (nb >= 128) {
		if (len < 2)
			return HDI_ECORRUPT;
		nb = ((nb - 128) << 8) + src[1];
		p = 2;
	}
	if (p >= len)
		return HDI_ECORRUPT;
	modes = src[p++];
	r = seq_table(w, &w->ll, w->ll_t, &k_ll, modes >> 6, src + p, len - p, w->seq_ok);
	if (r >= 0) {
		p += (size_t)r;
		r = seq_table(w, &w->of, w->of_t, &k_of, (modes >> 4) & 3u,
			      src + p, len - p, w->seq_ok);
	}
	if (r >= 0) {
		p += (size_t)r;
		r = seq_table(w, &w->ml, w->ml_t, &k_ml, (modes >> 2) & 3u,
			      src + p, len - p, w->seq_ok);
	}
	if (r < 0)
		return r;
	p += (size_t)r;
	if (!nb)
		return HDI_OK;
	/* the tables stay for Repeat_Mode in later blocks */
	w->seq_ok = true;
	return run(z, nb, src + p, len - p);
}

static int compressed_block(struct zs *z, const uint8_t *src, size_t len)
{
	size_t used;
	int r;
	if (!len)
		return HDI_ECORRUPT;
	r = literals(z, src, len, &used);
	if (r == HDI_OK)
		r = sequences(z, src + used, len - used);
	if (r < 0)
		return r;
	/* the literals left over end the block */
	if (z->lit_n > (size_t)(z->end - z->op))
		return HDI_ECORRUPT;
	memmove(z->op, z->lit, z->lit_n);
	z->op += z->lit_n;
	z->lit_n = 0;
	return HDI_OK;
}

/* ---- frames ---------------------------------------------------------------- */
struct hdr {
	uint64_t fcs;           /* content size, or UINT64_MAX when absent */
	bool checksum;
};

static int frame_header(struct zs *z, const uint8_t *src, size_t len,
			size_t *used, struct hdr *h)
{
	static const uint8_t did_len[4] = { 0, 1, 2, 4 };
	static const uint8_t fcs_len[4] = { 0, 2, 4, 8 };
	unsigned fhd, single, dl, fl, i;
	uint64_t window = 0, did = 0, v = 0;
	size_t p = 1;
	if (!len)
		return HDI_ECORRUPT;
	fhd = src[0];
	single = (fhd >> 5) & 1u;
	if (fhd & 8u)                   /* Reserved_bit */
		return HDI_ECORRUPT;
	h->checksum = (fhd & 4u) != 0;
	dl = did_len[fhd & 3u];
	fl = fcs_len[fhd >> 6];
	if (!fl && single)
		fl = 1;
	if (len < 1 + !single + dl + fl)
		return HDI_ECORRUPT;
	if (!single) {
		unsigned wl = 10u + (src[1] >> 3);
		window = ((uint64_t)1 << wl) + (((uint64_t)1 << wl) >> 3) * (src[1] & 7u);
		p = 2;
	}
	for (i = 0; i < dl; i++)
		did |= (uint64_t)src[p + i] << (8 * i);
	p += dl;
	for (i = 0; i < fl; i++)
		v |= (uint64_t)src[p + i] << (8 * i);
	p += fl;
	if (did)
		return HDI_EUNSUPP;
	if (!single && (src[1] >> 3) > 21)
		return HDI_ECORRUPT;    /* windowLog > 31 */
	h->fcs = fl ? v + (fl == 2 ? 256u : 0u) : UINT64_MAX;
	/* With the content size known, QEMU's libzstd decodes the frame in
	 * one pass, which bounds only a compressed block's size; without it,
	 * it streams through a window buffer, which bounds every block by
	 * Block_Maximum_Size and the window by 128 MiB. */
	z->in_max = ZS_BLOCK_MAX;
	z->out_max = SIZE_MAX;
	if (h->fcs == UINT64_MAX) {
		if (window > WINDOW_MAX)
			return HDI_ECORRUPT;
		z->in_max = z->out_max = (size_t)hdi_min64(window, ZS_BLOCK_MAX);
	} else if (h->fcs > (uint64_t)(size_t)(z->end - z->op)) {
		return HDI_ECORRUPT;    /* would not fit in dst */
	}
	*used = p;
	return HDI_OK;
}

static void frame_reset(struct zs *z)
{
	z->frame = z->op;
	z->w->huf_log = 0;
	z->w->seq_ok = false;
	z->w->rep[0] = 1;
	z->w->rep[1] = 4;
	z->w->rep[2] = 8;
}

/* One block; *last is set for the frame's last one. */
static int block(struct zs *z, const uint8_t *src, size_t len, size_t *used,
		 bool *last)
{
	uint32_t bh, size;
	size_t room = (size_t)(z->end - z->op);
	uint8_t *start = z->op;
	int r = HDI_OK;
	if (len < 3)
		return HDI_ECORRUPT;
	bh = hdi_ld_le16(src) | ((uint32_t)src[2] << 16);
	*last = bh & 1u;
	size = bh >> 3;
	src += 3;
	len -= 3;
	switch ((bh >> 1) & 3u) {
	case 0:         /* Raw_Block */
		if (size > len || size > room || size > z->out_max)
			return HDI_ECORRUPT;
		memcpy(z->op, src, size);
		z->op += size;
		*used = 3 + size;
		break;
	case 1:         /* RLE_Block */
		if (!len || size > room || size > z->out_max)
			return HDI_ECORRUPT;
		memset(z->op, src[0], size);
		z->op += size;
		*used = 4;
		break;
	case 2:         /* Compressed_Block; libzstd streams an empty one */
		if (size > len || size > z->in_max)
			return HDI_ECORRUPT;
		r = size ? compressed_block(z, src, size) : HDI_OK;
		if ((size_t)(z->op - start) > z->out_max)
			r = HDI_ECORRUPT;
		*used = 3 + size;
		break;
	default:
		return HDI_ECORRUPT;
	}
	return r;
}

/* One frame after its magic number. Returns 1 when dst filled up before
 * the frame's end (the rest is not looked at), else 0 or an error. */
static int frame(struct zs *z, const uint8_t *src, size_t len, size_t *used)
{
	struct hdr h;
	size_t p, n;
	bool last;
	int r = frame_header(z, src, len, &p, &h);
	if (r < 0)
		return r;
	frame_reset(z);
	do {
		r = block(z, src + p, len - p, &n, &last);
		if (r < 0)
			return r;
		p += n;
		*used = p;
		if (!last && z->op == z->end)
			return 1;
	} while (!last);
	if (h.fcs != UINT64_MAX && h.fcs != (uint64_t)(size_t)(z->op - z->frame))
		return HDI_ECORRUPT;
	if (h.checksum) {
		if (len - p < 4 || hdi_ld_le32(src + p) !=
		    (uint32_t)hdi_zs_xxh64(z->frame, (size_t)(z->op - z->frame)))
			return HDI_ECORRUPT;
		p += 4;
	}
	*used = p;
	return 0;
}

static int decode(struct zs *z, const uint8_t *src, size_t len, size_t *pos)
{
	while (z->op < z->end && *pos < len) {
		const uint8_t *s = src + *pos;
		size_t left = len - *pos, n = 0;
		uint32_t magic;
		int r;
		if (left < 4)
			return HDI_ECORRUPT;
		magic = hdi_ld_le32(s);
		if ((magic & ~15u) == SKIP_MAGIC) {
			if (left < 8 || hdi_ld_le32(s + 4) > left - 8)
				return HDI_ECORRUPT;
			*pos += 8 + (size_t)hdi_ld_le32(s + 4);
			continue;
		}
		if (magic != MAGIC)
			return HDI_ECORRUPT;
		r = frame(z, s + 4, left - 4, &n);
		*pos += 4 + n;
		if (r < 0)
			return r;
		if (r == 1)
			break;
	}
	return HDI_OK;
}

int hdi_zstd_decompress(void *dst, size_t dst_len, size_t *dst_written,
			const void *src, size_t src_len, size_t *src_used,
			void *work, size_t work_len)
{
	struct zs z;
	size_t pos = 0;
	int r = HDI_OK;
	memset(&z, 0, sizeof z);
	z.op = z.end = dst;
	if (!work || work_len < HDI_ZSTD_WORK_SIZE)
		r = HDI_ENOMEM;
	else if ((!dst && dst_len) || (!src && src_len))
		r = HDI_EINVAL;
	if (r == HDI_OK && dst_len) {
		z.end = z.op + dst_len;
		z.frame = z.op;
		z.w = (struct zs_work *)(((uintptr_t)work + 7u) & ~(uintptr_t)7u);
		z.src_end = (const uint8_t *)src + src_len;
		r = decode(&z, src, src_len, &pos);
	}
	if (dst_written)
		*dst_written = z.w ? (size_t)(z.op - (uint8_t *)dst) : 0;
	if (src_used)
		*src_used = pos;
	return r;
}

#endif /* HDI_CONFIG_ZSTD */
