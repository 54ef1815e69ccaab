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
 * c holds 8 bytes of the stream, loaded from p (the whole stream, zero
 * extended, when it is shorter), and `used` counts its bits already read,
 * from the top. The stream is exactly consumed when p == start and
 * used == 64; more means it was read past its start. Such reads return
 * zeros while used < 64 and arbitrary bits after, but never more bits
 * than asked for, so a table index stays in range; callers check
 * zs_br_over() before they act on a value. */
struct zs_br {
	const uint8_t *start, *p;
	uint64_t c;
	unsigned used;
};

/* __builtin_clz only where it is one instruction: elsewhere (Cortex-M0,
 * RISC-V without Zbb) it is a libgcc call a kernel may not have. */
static inline unsigned zs_highbit(uint32_t v)   /* v != 0 */
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__) || \
			  defined(__aarch64__))
	return 31u - (unsigned)__builtin_clz(v);
#else
	unsigned r = (unsigned)(v > 0xFFFFu) << 4, t;
	v >>= r;
	t = (unsigned)(v > 0xFFu) << 3;
	v >>= t;
	r |= t;
	t = (unsigned)(v > 0xFu) << 2;
	v >>= t;
	r |= t;
	t = (unsigned)(v > 0x3u) << 1;
	v >>= t;
	r |= t;
	return r | (v >> 1);
#endif
}

static inline uint64_t zs_ld64(const uint8_t *p)
{
	return (uint64_t)hdi_ld_le32(p) | ((uint64_t)hdi_ld_le32(p + 4) << 32);
}

static inline int zs_br_init(struct zs_br *b, const uint8_t *s, size_t len)
{
	size_t i;
	if (!len || !s[len - 1])
		return HDI_ECORRUPT;
	b->start = s;
	b->used = 8u - zs_highbit(s[len - 1]);
	if (len >= 8) {
		b->p = s + len - 8;
		b->c = zs_ld64(b->p);
		return HDI_OK;
	}
	b->p = s;
	b->c = 0;
	for (i = 0; i < len; i++)
		b->c |= (uint64_t)s[i] << (8 * i);
	b->used += 8u * (8u - (unsigned)len);
	return HDI_OK;
}

/* The fast case (8 or more bytes before p) is a subtraction and one
 * load, and leaves at least 57 unread bits; callers read at most that
 * many between fills. */
static inline bool zs_br_fast(const struct zs_br *b)
{
	return b->p - b->start >= 8;
}
static inline void zs_br_fill_fast(struct zs_br *b)
{
	HDI_ASSERT(b->used <= 64);
	b->p -= b->used >> 3;
	b->used &= 7u;
	b->c = zs_ld64(b->p);
}

/* Near the start it loads what is left, and never once past it. */
static inline void zs_br_fill(struct zs_br *b)
{
	size_t k = b->used >> 3, room = (size_t)(b->p - b->start);
	if (room >= 8) {
		zs_br_fill_fast(b);
		return;
	}
	if (b->used > 64 || !room)
		return;
	if (k > room)
		k = room;
	b->p -= k;
	b->used -= 8u * (unsigned)k;
	b->c = zs_ld64(b->p);
}

/* The next k <= 56 bits, k may be 0. */
static inline uint32_t zs_br_peek(const struct zs_br *b, unsigned k)
{
	return (uint32_t)((b->c << (b->used & 63u)) >> 1 >> (63u - k));
}

static inline uint32_t zs_br_get(struct zs_br *b, unsigned k)
{
	uint32_t v = zs_br_peek(b, k);
	b->used += k;
	return v;
}

static inline bool zs_br_over(const struct zs_br *b)
{
	return b->used > 64;
}

/* Bits not yet read: 0 when the stream is exactly consumed. */
static inline uint64_t zs_br_left(const struct zs_br *b)
{
	return 64u - b->used + 8u * (uint64_t)(size_t)(b->p - b->start);
}

static inline bool zs_br_done(const struct zs_br *b)
{
	return b->p == b->start && b->used == 64;
}

/* Where libzstd 1.5 lets a malformed stream through (it reads past a
 * stream's start, or a table description's end, from stale bits; its
 * fast 4-stream Huffman path checks only the output length), we refuse
 * it. Test builds flag those refusals so the differential fuzz target can
 * tell them from disagreements. */
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
