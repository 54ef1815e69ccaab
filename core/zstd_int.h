/* core/zstd_int.h: what the zstd decoder's files share: the workspace
 * layout (entropy tables that live across blocks) and the backward bit
 * reader of FSE and Huffman streams. */
#ifndef HDI_CORE_ZSTD_INT_H
#define HDI_CORE_ZSTD_INT_H

#include "hdi/zstd.h"
#include "hdi/errors.h"
#include "util.h"

#define ZS_LL_MAX 35u          /* largest literals length code */
#define ZS_ML_MAX 52u          /* largest match length code */
#define ZS_OF_MAX 31u          /* largest offset code */
#define ZS_LL_LOG 9u           /* accuracy log caps (RFC 8878 3.1.1.3.2.1) */
#define ZS_ML_LOG 9u
#define ZS_OF_LOG 8u
#define ZS_HW_LOG 6u           /* Huffman weights' FSE table */
#define ZS_HUF_LOG 12u         /* Huffman code length cap libzstd decodes */
#define ZS_BLOCK_MAX (128u * 1024u)

/* One FSE state: the symbol it decodes, and the next state is
 * base + the next `bits` bits. */
struct zs_fse {
	uint16_t base;
	uint8_t sym;
	uint8_t bits;
};

/* An FSE table for one symbol type; log 0 with one entry is RLE mode. */
struct zs_table {
	struct zs_fse *t;
	uint8_t log;
};

struct zs_work {
	uint16_t huf[1u << ZS_HUF_LOG];  /* symbol | code length << 8 */
	struct zs_fse ll_t[1u << ZS_LL_LOG], ml_t[1u << ZS_ML_LOG];
	struct zs_fse of_t[1u << ZS_OF_LOG], hw_t[1u << ZS_HW_LOG];
	struct zs_table ll, ml, of;
	int16_t norm[256];               /* scratch: a table description */
	uint16_t next[256];              /* scratch: table building */
	uint8_t weights[256];            /* scratch: Huffman weights */
	uint8_t huf_log;                 /* 0: no Huffman table yet */
	bool seq_ok;                     /* tables exist for Repeat_Mode */
	uint32_t rep[3];                 /* repeat offsets */
};
HDI_STATIC_ASSERT(sizeof(struct zs_work) + 7u <= HDI_ZSTD_WORK_SIZE, zstd_work_fits);

/* ---- backward bit reader --------------------------------------------- */
/* FSE and Huffman streams are written forwards and read from their last
 * byte back; the highest 1 bit of the last byte marks where they begin.
 * Reading past the start yields zeros and is counted in `over`. */
struct zs_br {
	const uint8_t *start, *p;  /* bytes [start, p) are not loaded yet */
	uint64_t c;                /* the low n bits are unread, bit n-1 first */
	unsigned n;
	uint32_t over;
};

static inline unsigned zs_highbit(uint32_t v)   /* v != 0 */
{
	unsigned r = 0;
	while (v >>= 1)
		r++;
	return r;
}

static inline void zs_br_fill(struct zs_br *b)
{
	if (b->n <= 32 && b->p - b->start >= 4) {
		b->p -= 4;
		b->c = (b->c << 32) | hdi_ld_le32(b->p);
		b->n += 32;
	}
	while (b->n <= 56 && b->p > b->start) {
		b->c = (b->c << 8) | *--b->p;
		b->n += 8;
	}
}

static inline int zs_br_init(struct zs_br *b, const uint8_t *s, size_t len)
{
	if (!len || !s[len - 1])
		return HDI_ECORRUPT;
	b->start = s;
	b->p = s + len - 1;
	b->c = *b->p;
	b->n = zs_highbit(*b->p);
	b->over = 0;
	zs_br_fill(b);
	return HDI_OK;
}

static inline uint32_t zs_br_peek(const struct zs_br *b, unsigned k)
{
	uint64_t m = ((uint64_t)1 << k) - 1u;
	if (k <= b->n)
		return (uint32_t)((b->c >> (b->n - k)) & m);
	return (uint32_t)((b->c << (k - b->n)) & m);
}

static inline void zs_br_skip(struct zs_br *b, unsigned k)
{
	if (k <= b->n) {
		b->n -= k;
	} else {
		b->over += k - b->n;
		b->n = 0;
	}
}

/* k <= 32 bits; callers fill first when they need more than n. */
static inline uint32_t zs_br_get(struct zs_br *b, unsigned k)
{
	uint32_t v;
	if (!k)
		return 0;
	v = zs_br_peek(b, k);
	zs_br_skip(b, k);
	return v;
}

/* Bits neither read nor loaded: 0 when the stream is exactly consumed. */
static inline uint64_t zs_br_left(const struct zs_br *b)
{
	return b->n + 8u * (uint64_t)(size_t)(b->p - b->start);
}

static inline bool zs_br_done(const struct zs_br *b)
{
	return b->n == 0 && b->p == b->start && b->over == 0;
}

/* Where libzstd 1.5 lets a malformed stream through (it reads past a
 * stream's start from stale bits; its fast 4-stream Huffman path checks
 * only the output length), we refuse it. Test builds flag those refusals
 * so the differential fuzz target can tell them from disagreements. */
#ifdef HDI_ZSTD_TEST_HOOKS
extern int hdi_zstd_strict;
#define ZS_STRICT() (hdi_zstd_strict = 1, HDI_ECORRUPT)
#else
#define ZS_STRICT() HDI_ECORRUPT
#endif

/* ---- zstd_fse.c ---------------------------------------------------------- */
/* Reads an FSE table description (maximum symbol *max_sym in, last symbol
 * out) into w->norm; returns the bytes it used, or HDI_ECORRUPT. */
int hdi_zs_ncount(struct zs_work *w, const uint8_t *src, size_t len,
		  unsigned *max_sym, unsigned *log, unsigned max_log);
/* Builds t (1 << log entries) from w->norm[0..max_sym]. */
void hdi_zs_fse_build(struct zs_work *w, struct zs_fse *t, unsigned max_sym,
		      unsigned log);

/* ---- zstd_huf.c ---------------------------------------------------------- */
/* Reads a Huffman tree description into w->huf; returns bytes used. */
int hdi_zs_huf_read(struct zs_work *w, const uint8_t *src, size_t len);
/* Decodes n literals from 1 or 4 streams in src[0..len) into out. */
int hdi_zs_huf_decode(const struct zs_work *w, uint8_t *out, size_t n,
		      const uint8_t *src, size_t len, bool four);

/* ---- zstd_xxh64.c -------------------------------------------------------- */
uint64_t hdi_zs_xxh64(const uint8_t *p, size_t n);

#endif
