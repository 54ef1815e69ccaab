/* core/inflate.c: raw DEFLATE (RFC 1951) decoding into one caller buffer:
 * table-driven Huffman decoding, bounds-checked, with qcow2's stop-when-full. */
#include "hdi/inflate.h"
#include "hdi/errors.h"
#include "util.h"

#if HDI_CONFIG_ZLIB

/* Root table sizes. Codes longer than the root fall back to a bit-by-bit
 * canonical decode; they are the rarest symbols, so that path is cold. */
#define LBITS 10u
#define DBITS 8u
#define CBITS 7u     /* code-length codes are at most 7 bits: never long */
#define MAXBITS 15u

/* A table entry: bits 0-3 code length, 4-7 extra bits, 8-10 kind,
 * 16-31 value (literal byte, length or distance base, code-length symbol). */
enum { K_LIT = 0, K_LEN = 1, K_EOB = 2, K_BAD = 3, K_LONG = 4 };
#define ENTRY(kind, val, extra, len) (((uint32_t)(val) << 16) | \
	((uint32_t)(kind) << 8) | ((uint32_t)(extra) << 4) | (uint32_t)(len))
#define E_LEN(e)   ((unsigned)(e) & 15u)
#define E_EXTRA(e) (((unsigned)(e) >> 4) & 15u)
#define E_KIND(e)  (((unsigned)(e) >> 8) & 7u)
#define E_VAL(e)   ((unsigned)((e) >> 16))

enum { CODES, LENS, DISTS };                    /* the three alphabets */
enum { R_NEXT, R_FULL, R_SHORT, R_BAD };        /* how a block step ended */

struct work {
	uint32_t lit[1u << LBITS];
	uint32_t dist[1u << DBITS];     /* holds the code-length code first */
	uint16_t lcount[MAXBITS + 1], dcount[MAXBITS + 1];
	uint16_t lsym[288], dsym[32];
	uint8_t lens[288 + 32];
};
HDI_STATIC_ASSERT(sizeof(struct work) + 3 <= HDI_INFLATE_WORK_SIZE, inflate_work);

struct st {
	const uint8_t *in, *in_end;
	uint8_t *out0, *out, *out_end;
	uint64_t buf;                   /* bits not yet used, LSB first */
	unsigned cnt;                   /* how many of buf's bits are input */
};

static const uint16_t len_base[29] = {
	3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
	35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t len_extra[29] = {
	0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
	3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = {
	1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
	257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
	8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = {
	0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
	7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };
static const uint8_t cl_order[19] = {
	16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };

static uint32_t sym_entry(int type, unsigned s, unsigned len)
{
	if (type == CODES)
		return ENTRY(K_LIT, s, 0, len);
	if (type == DISTS)
		return s < 30 ? ENTRY(K_LIT, dist_base[s], dist_extra[s], len)
			      : ENTRY(K_BAD, 0, 0, len);
	if (s < 256)
		return ENTRY(K_LIT, s, 0, len);
	if (s == 256)
		return ENTRY(K_EOB, 0, 0, len);
	if (s < 286)
		return ENTRY(K_LEN, len_base[s - 257], len_extra[s - 257], len);
	return ENTRY(K_BAD, 0, 0, len);
}

static unsigned reverse(unsigned code, unsigned len)
{
	unsigned r = 0;
	while (len--) {
		r = (r << 1) | (code & 1u);
		code >>= 1;
	}
	return r;
}

/* Canonical code from lengths; root table of 2^tbits entries, plus count[]
 * and sym[] for the slow path. zlib's rules: over-subscribed codes are bad;
 * an incomplete code is bad unless it is a single 1-bit code (not allowed
 * for code-length codes); no codes at all is accepted, and every lookup
 * then takes one bit and fails (code-length codes: reads as length 0). */
static int build(uint32_t *table, unsigned tbits, uint16_t *count,
		 uint16_t *sym, const uint8_t *lens, unsigned n, int type)
{
	uint16_t offs[MAXBITS + 1];
	unsigned len, s, k, r, idx, code, max = 0, tsize = 1u << tbits;
	int left = 1;

	for (len = 0; len <= MAXBITS; len++)
		count[len] = 0;
	for (s = 0; s < n; s++)
		count[lens[s]]++;
	for (len = 1; len <= MAXBITS; len++)
		if (count[len])
			max = len;
	if (max == 0) {
		uint32_t e = type == CODES ? ENTRY(K_LIT, 0, 0, 1) : ENTRY(K_BAD, 0, 0, 1);
		for (s = 0; s < tsize; s++)
			table[s] = e;
		return 0;
	}
	for (len = 1; len <= MAXBITS; len++) {
		left = (left << 1) - count[len];
		if (left < 0)
			return -1;
	}
	if (left > 0 && (type == CODES || max != 1))
		return -1;
	offs[1] = 0;
	for (len = 1; len < MAXBITS; len++)
		offs[len + 1] = (uint16_t)(offs[len] + count[len]);
	for (s = 0; s < n; s++)
		if (lens[s])
			sym[offs[lens[s]]++] = (uint16_t)s;
	if (left > 0)                   /* the one unused 1-bit code */
		for (s = 0; s < tsize; s++)
			table[s] = ENTRY(K_BAD, 0, 0, 1);
	code = 0;
	idx = 0;
	for (len = 1; len <= max; len++, code <<= 1) {
		for (k = count[len]; k; k--, code++) {
			s = sym[idx++];
			if (len <= tbits) {
				uint32_t e = sym_entry(type, s, len);
				for (r = reverse(code, len); r < tsize; r += 1u << len)
					table[r] = e;
			} else {
				r = reverse(code >> (len - tbits), tbits);
				table[r] = ENTRY(K_LONG, 0, 0, 0);
			}
		}
	}
	return 0;
}

/* Bit-by-bit canonical decode of a code longer than the root table.
 * Returns the code length, or 0 if no code matches (cannot happen for the
 * complete codes that have long codes). */
static unsigned slow_decode(uint64_t buf, const uint16_t *count,
			    const uint16_t *sym, unsigned *s)
{
	int code = 0, first = 0, index = 0;
	unsigned len;

	for (len = 1; len <= MAXBITS; len++) {
		int c = count[len];
		code |= (int)(buf & 1u);
		buf >>= 1;
		if (code - first < c) {
			*s = sym[index + (code - first)];
			return len;
		}
		index += c;
		first = (first + c) << 1;
		code <<= 1;
	}
	return 0;
}

static inline uint64_t ld_le64(const uint8_t *p)
{
	return (uint64_t)hdi_ld_le32(p) | ((uint64_t)hdi_ld_le32(p + 4) << 32);
}

/* Top the bit buffer up to at least 56 bits while input lasts. With 8 bytes
 * at hand, one load does it; bits it puts above cnt are the next input
 * bytes, so OR-ing those bytes in again later is harmless. */
#define REFILL(in, in_end, buf, cnt) do { \
	if ((in_end) - (in) >= 8) { \
		(buf) |= ld_le64(in) << (cnt); \
		(in) += (63u - (cnt)) >> 3; \
		(cnt) |= 56u; \
	} else { \
		while ((cnt) <= 56u && (in) < (in_end)) { \
			(buf) |= (uint64_t)*(in)++ << (cnt); \
			(cnt) += 8u; \
		} \
	} \
} while (0)

static void refill(struct st *s)
{
	REFILL(s->in, s->in_end, s->buf, s->cnt);
}

static void drop(struct st *s, unsigned n)
{
	s->buf >>= n;
	s->cnt -= n;
}

static int stored(struct st *s)
{
	unsigned len, nlen;
	size_t n;

	drop(s, s->cnt & 7u);
	refill(s);
	if (s->cnt < 32)
		return R_SHORT;
	len = (unsigned)s->buf & 0xffffu;
	nlen = (unsigned)(s->buf >> 16) & 0xffffu;
	if (len != (~nlen & 0xffffu))
		return R_BAD;
	drop(s, 32);
	/* Give the whole bytes still buffered back and copy straight from in. */
	s->in -= s->cnt >> 3;
	s->buf = 0;
	s->cnt = 0;
	if (len == 0)
		return R_NEXT;
	if (s->out == s->out_end)
		return R_FULL;
	n = hdi_minsz(len, (size_t)(s->out_end - s->out));
	n = hdi_minsz(n, (size_t)(s->in_end - s->in));
	memcpy(s->out, s->in, n);
	s->out += n;
	s->in += n;
	if (n == len)
		return R_NEXT;
	return s->out == s->out_end ? R_FULL : R_SHORT;
}

static void build_fixed(struct work *w)
{
	unsigned i;

	for (i = 0; i < 288; i++)
		w->lens[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
	build(w->lit, LBITS, w->lcount, w->lsym, w->lens, 288, LENS);
	for (i = 0; i < 32; i++)
		w->lens[i] = 5;
	build(w->dist, DBITS, w->dcount, w->dsym, w->lens, 32, DISTS);
}

/* Reads the code lengths of a dynamic block (RFC 1951 3.2.7), in zlib's
 * order of checks, and builds its tables. */
static int dynamic(struct st *s, struct work *w)
{
	uint8_t cl[19];
	unsigned nlen, ndist, ncode, i, n;

	refill(s);
	if (s->cnt < 14)
		return R_SHORT;
	nlen = ((unsigned)s->buf & 31u) + 257;
	ndist = ((unsigned)(s->buf >> 5) & 31u) + 1;
	ncode = ((unsigned)(s->buf >> 10) & 15u) + 4;
	drop(s, 14);
	if (nlen > 286 || ndist > 30)
		return R_BAD;
	for (i = 0; i < 19; i++)
		cl[i] = 0;
	for (i = 0; i < ncode; i++) {
		refill(s);
		if (s->cnt < 3)
			return R_SHORT;
		cl[cl_order[i]] = (uint8_t)(s->buf & 7u);
		drop(s, 3);
	}
	if (build(w->dist, CBITS, w->dcount, w->dsym, cl, 19, CODES))
		return R_BAD;
	n = nlen + ndist;
	for (i = 0; i < n;) {
		uint32_t e;
		unsigned sym, extra, rep, val = 0;

		refill(s);
		e = w->dist[s->buf & ((1u << CBITS) - 1)];
		if (E_LEN(e) > s->cnt)
			return R_SHORT;
		sym = E_VAL(e);
		if (sym < 16) {
			drop(s, E_LEN(e));
			w->lens[i++] = (uint8_t)sym;
			continue;
		}
		extra = sym == 16 ? 2 : sym == 17 ? 3 : 7;
		if (E_LEN(e) + extra > s->cnt)
			return R_SHORT;
		drop(s, E_LEN(e));
		if (sym == 16) {
			if (i == 0)
				return R_BAD;
			val = w->lens[i - 1];
		}
		rep = (sym == 18 ? 11 : 3) + ((unsigned)s->buf & ((1u << extra) - 1));
		drop(s, extra);
		if (rep > n - i)
			return R_BAD;
		while (rep--)
			w->lens[i++] = (uint8_t)val;
	}
	if (w->lens[256] == 0)
		return R_BAD;
	if (build(w->lit, LBITS, w->lcount, w->lsym, w->lens, nlen, LENS) ||
	    build(w->dist, DBITS, w->dcount, w->dsym, w->lens + nlen, ndist, DISTS))
		return R_BAD;
	return R_NEXT;
}

/* Copies a match; the caller has clipped len to the room left in dst. */
static uint8_t *copy_match(uint8_t *out, unsigned dist, unsigned len)
{
	const uint8_t *from = out - dist;

	if (dist >= len) {
		memcpy(out, from, len);
		return out + len;
	}
	if (dist == 1) {
		memset(out, *from, len);
		return out + len;
	}
	while (len--)
		*out++ = *from++;
	return out;
}

/* Decodes one Huffman-coded block's symbols. Every read of n bits first
 * checks n <= cnt: bits past the input are never used as data, so a short
 * stream stops exactly where zlib's inflate would wait for more input. */
static int codes(struct st *s, const struct work *w)
{
	const uint8_t *in = s->in, *const in_end = s->in_end;
	uint8_t *out = s->out, *const out0 = s->out0, *const out_end = s->out_end;
	uint64_t buf = s->buf;
	unsigned cnt = s->cnt, sym;
	int r;

	for (;;) {
		uint32_t e;
		unsigned n, len, dist;

		REFILL(in, in_end, buf, cnt);
		e = w->lit[buf & ((1u << LBITS) - 1)];
		if (E_KIND(e) == K_LONG) {
			n = slow_decode(buf, w->lcount, w->lsym, &sym);
			e = n ? sym_entry(LENS, sym, n) : ENTRY(K_BAD, 0, 0, 0);
		}
		n = E_LEN(e);
		if (n > cnt) { r = R_SHORT; break; }
		buf >>= n;
		cnt -= n;
		if (E_KIND(e) == K_LIT) {
			if (out == out_end) { r = R_FULL; break; }
			*out++ = (uint8_t)E_VAL(e);
			continue;
		}
		if (E_KIND(e) == K_EOB) { r = R_NEXT; break; }
		if (E_KIND(e) != K_LEN) { r = R_BAD; break; }
		/* After a refill at most 20 bits are gone, so while input
		 * lasts the up to 28 distance bits are buffered already. */
		n = E_EXTRA(e);
		if (n > cnt) { r = R_SHORT; break; }
		len = E_VAL(e) + ((unsigned)buf & ((1u << n) - 1));
		buf >>= n;
		cnt -= n;
		e = w->dist[buf & ((1u << DBITS) - 1)];
		if (E_KIND(e) == K_LONG) {
			n = slow_decode(buf, w->dcount, w->dsym, &sym);
			e = n ? sym_entry(DISTS, sym, n) : ENTRY(K_BAD, 0, 0, 0);
		}
		n = E_LEN(e);
		if (n > cnt) { r = R_SHORT; break; }
		buf >>= n;
		cnt -= n;
		if (E_KIND(e) != K_LIT) { r = R_BAD; break; }
		n = E_EXTRA(e);
		if (n > cnt) { r = R_SHORT; break; }
		dist = E_VAL(e) + ((unsigned)buf & ((1u << n) - 1));
		buf >>= n;
		cnt -= n;
		if (out == out_end) { r = R_FULL; break; }
		if (dist > (size_t)(out - out0)) { r = R_BAD; break; }
		if (len > (size_t)(out_end - out)) {
			out = copy_match(out, dist, (unsigned)(out_end - out));
			r = R_FULL;
			break;
		}
		out = copy_match(out, dist, len);
	}
	s->in = in;
	s->out = out;
	s->buf = buf;
	s->cnt = cnt;
	return r;
}

int hdi_inflate_raw(void *dst, size_t dst_len, size_t *dst_written,
		    const void *src, size_t src_len, size_t *src_used,
		    void *work, size_t work_len)
{
	struct st s;
	struct work *w;
	unsigned final = 0, type;
	int r = R_NEXT, fixed = 0, ret;

	s.in = s.in_end = src;
	if (src)
		s.in_end += src_len;
	s.out0 = s.out = s.out_end = dst;
	if (dst)
		s.out_end += dst_len;
	s.buf = 0;
	s.cnt = 0;
	if (!work || work_len < HDI_INFLATE_WORK_SIZE) {
		ret = HDI_ENOMEM;
		goto done;
	}
	w = (struct work *)((uint8_t *)work + ((4u - ((uintptr_t)work & 3u)) & 3u));
	while (!final && r == R_NEXT) {
		refill(&s);
		if (s.cnt < 3) {
			r = R_SHORT;
			break;
		}
		final = (unsigned)s.buf & 1u;
		type = (unsigned)(s.buf >> 1) & 3u;
		drop(&s, 3);
		if (type == 0) {
			r = stored(&s);
		} else if (type == 1) {
			if (!fixed)
				build_fixed(w);
			fixed = 1;
			r = codes(&s, w);
		} else if (type == 2) {
			fixed = 0;
			r = dynamic(&s, w);
			if (r == R_NEXT)
				r = codes(&s, w);
		} else {
			r = R_BAD;
		}
	}
	if (r == R_NEXT || r == R_FULL || (r == R_SHORT && s.out == s.out_end))
		ret = HDI_OK;
	else
		ret = HDI_ECORRUPT;
done:
	if (dst_written)
		*dst_written = (size_t)(s.out - s.out0);
	if (src_used)
		*src_used = (size_t)(s.in - (const uint8_t *)src) - (s.cnt >> 3);
	return ret;
}

#endif /* HDI_CONFIG_ZLIB */
