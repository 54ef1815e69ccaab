/* host_test/unit/t_zstd.c: hdi_zstd_decompress against libzstd: round
 * trips over data kinds, sizes, levels, window sizes, checksums and
 * unknown content sizes; QEMU's cluster semantics (several frames, stop
 * when full, padding after); and hostile frames (truncated, flipped,
 * outputs too long, dictionaries, hand-made blocks). */
#include "unit.h"
#include "hdi/zstd.h"
#include "hdi/errors.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static unsigned char work[HDI_ZSTD_WORK_SIZE];

/* kind 0 random, 1 zeros, 2 words, 3 small alphabet, 4 runs and far
 * repeats, 5 a mix of all (what a disk cluster looks like). */
static void fill(unsigned char *p, size_t n, int kind)
{
	static const char *words[] = { "qcow2 ", "cluster ", "refcount ",
		"table ", "the ", "image ", "L2 ", "offset\n", "a", "zz" };
	size_t i = 0;
	while (i < n) {
		switch (kind) {
		case 0: p[i++] = (unsigned char)rnd(); break;
		case 1: p[i++] = 0; break;
		case 2: {
			const char *w = words[rnd() % 10];
			while (*w && i < n)
				p[i++] = (unsigned char)*w++;
			break;
		}
		case 3: p[i++] = (unsigned char)("ACGT"[rnd() & 3]); break;
		case 4: {
			size_t len = 3 + rnd() % 300, d = 1 + rnd() % 65536;
			if (i >= d && rnd() % 4) {
				while (len-- && i < n) {
					p[i] = p[i - d];
					i++;
				}
			} else {
				unsigned char c = (unsigned char)rnd();
				while (len-- && i < n)
					p[i++] = c;
			}
			break;
		}
		default: {
			size_t len = 1 + rnd() % 5000;
			if (len > n - i)
				len = n - i;
			fill(p + i, len, (int)(rnd() % 5));
			i += len;
		}
		}
	}
}

/* One frame by libzstd. known = 0 writes no content size (streaming). */
static size_t zc(unsigned char *out, size_t cap, const unsigned char *in,
		 size_t n, int level, int wlog, int checksum, int known)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_inBuffer ib = { in, n, 0 };
	ZSTD_outBuffer ob = { out, cap, 0 };
	size_t r;
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, known);
	if (wlog)
		ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog);
	if (known) {
		r = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end);
	} else {
		/* fed in pieces, so libzstd cannot learn the size */
		do {
			ZSTD_inBuffer part = { in + ib.pos, n - ib.pos < 4096 ? n - ib.pos : 4096, 0 };
			r = ZSTD_compressStream2(c, &ob, &part, ZSTD_e_continue);
			ib.pos += part.pos;
		} while (ib.pos < n && !ZSTD_isError(r));
		do
			r = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end);
		while (r && !ZSTD_isError(r));
	}
	ZSTD_freeCCtx(c);
	return ZSTD_isError(r) ? 0 : ob.pos;
}

static int dec(unsigned char *dst, size_t dn, size_t *w, const unsigned char *src,
	       size_t sn, size_t *u)
{
	return hdi_zstd_decompress(dst, dn, w, src, sn, u, work, sizeof work);
}

TEST(zstd_round_trips)
{
	static const size_t sizes[] = { 0, 1, 5, 100, 511, 4096, 65536, 131072,
		131073, 300000, 2u << 20 };
	static const int levels[] = { -5, 1, 3, 9, 19 };
	size_t cap = ZSTD_compressBound(2u << 20);
	unsigned char *in = malloc(2u << 20), *c = malloc(cap), *out = malloc((2u << 20) + 1);
	size_t si, li, w, u, n, cn;
	int kind, fails = 0;
	for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		n = sizes[si];
		for (kind = 0; kind < 6; kind++) {
			fill(in, n, kind);
			for (li = 0; li < sizeof levels / sizeof levels[0]; li++) {
				int lv = levels[li], known = (int)((si + li) & 1);
				int ck = (int)((si + kind + li) % 3 == 0);
				int wlog = (li == 2 && n > 4096) ? 10 + (int)(rnd() % 8) : 0;
				if (n >= (1u << 20) && lv == 19)
					continue;       /* slow, and covered by level 9 */
				cn = zc(c, cap, in, n, lv, wlog, ck, known);
				CHECK(cn > 0);
				memset(out, 0xAA, n + 1);
				/* exactly the frame's size: full */
				if (dec(out, n, &w, c, cn, &u) != HDI_OK || w != n ||
				    memcmp(out, in, n)) {
					if (fails++ < 5)
						fprintf(stderr, "zstd: n %zu kind %d level %d wlog %d ck %d known %d: w %zu\n",
							n, kind, lv, wlog, ck, known, w);
					continue;
				}
				/* one byte more: ends at the frame's end, all consumed */
				CHECK_EQ(dec(out, n + 1, &w, c, cn, &u), HDI_OK);
				CHECK_EQ(w, n);
				CHECK_EQ(u, cn);
				/* one byte less: the output does not fit, unless a
				 * block of a frame without content size ends there */
				if (n > 1 && !(dec(out, n - 1, &w, c, cn, &u) == HDI_ECORRUPT ||
					       (!known && !(w & 0xFFFF) && !memcmp(out, in, w)))) {
					fprintf(stderr, "zstd short: n %zu kind %d level %d wlog %d ck %d known %d: w %zu\n",
							n, kind, lv, wlog, ck, known, w);
					fails++;
				}
			}
		}
	}
	CHECK_EQ(fails, 0);
	free(in);
	free(c);
	free(out);
}

/* A cluster as QEMU writes it with the streaming API: frames one after
 * another, then padding to the sector. Decoding stops when full. */
TEST(zstd_qemu_cluster)
{
	enum { CL = 65536 };
	static unsigned char in[CL], c[2 * CL + 1024], out[CL + 1];
	size_t a, b, w, u;
	fill(in, CL, 5);
	a = zc(c, sizeof c, in, 20000, 3, 0, 0, 1);
	b = zc(c + a, sizeof c - a, in + 20000, CL - 20000, 3, 0, 1, 0);
	CHECK(a && b);
	memset(c + a + b, 0, 511);      /* the sector's padding */
	CHECK_EQ(dec(out, CL, &w, c, a + b + 511, &u), HDI_OK);
	CHECK_EQ(w, CL);
	CHECK_EQ(u, a + b);
	CHECK(memcmp(out, in, CL) == 0);
	/* garbage after the full cluster is not looked at */
	memset(c + a + b, 0xFF, 511);
	CHECK_EQ(dec(out, CL, &w, c, a + b + 511, &u), HDI_OK);
	/* but before it, padding is not a frame */
	CHECK_EQ(dec(out, CL + 1, &w, c, a + b + 511, &u), HDI_ECORRUPT);
	CHECK_EQ(w, CL);
	/* a skippable frame between the two */
	memmove(c + a + 12, c + a, b);
	memcpy(c + a, "\x5A\x2A\x4D\x18\x04\x00\x00\x00skip", 12);
	CHECK_EQ(dec(out, CL, &w, c, a + 12 + b, &u), HDI_OK);
	CHECK(memcmp(out, in, CL) == 0);
	/* the first frame alone does not fill the cluster */
	CHECK_EQ(dec(out, CL, &w, c, a, &u), HDI_OK);
	CHECK_EQ(w, 20000);
	/* a content size larger than the cluster is an error up front */
	CHECK_EQ(dec(out, 10000, &w, c, a + 12 + b, &u), HDI_ECORRUPT);
	CHECK_EQ(dec(out, 0, &w, c, a, &u), HDI_OK);
	CHECK_EQ(w, 0);
}

/* Hand-made frames: header fields, raw/RLE/reserved blocks. */
TEST(zstd_hand_made)
{
	unsigned char out[64];
	size_t w, u;
	/* FHD 0x20: single segment, FCS 1 byte */
	static const unsigned char rle[] = { 0x28, 0xB5, 0x2F, 0xFD, 0x20, 10,
		0x53, 0x00, 0x00, 'x' };                /* last RLE block of 10 */
	static const unsigned char raw[] = { 0x28, 0xB5, 0x2F, 0xFD, 0x20, 3,
		0x18, 0x00, 0x00, 'a', 'b', 'c' };      /* last raw block of 3 */
	unsigned char f[32];
	CHECK_EQ(dec(out, 10, &w, rle, sizeof rle, &u), HDI_OK);
	CHECK(w == 10 && memcmp(out, "xxxxxxxxxx", 10) == 0);
	CHECK_EQ(dec(out, 3, &w, raw, sizeof raw, &u), HDI_OK);
	CHECK(memcmp(out, "abc", 3) == 0);
	/* the content size must match */
	memcpy(f, raw, sizeof raw);
	f[5] = 4;
	CHECK_EQ(dec(out, 10, &w, f, sizeof raw, &u), HDI_ECORRUPT);
	/* reserved block type, reserved header bit */
	memcpy(f, raw, sizeof raw);
	f[6] = 0x1F;
	CHECK_EQ(dec(out, 10, &w, f, sizeof raw, &u), HDI_ECORRUPT);
	memcpy(f, raw, sizeof raw);
	f[4] |= 8;
	CHECK_EQ(dec(out, 10, &w, f, sizeof raw, &u), HDI_ECORRUPT);
	/* a dictionary id is unsupported; id 0 is no dictionary */
	{
		static const unsigned char d[] = { 0x28, 0xB5, 0x2F, 0xFD, 0x21, 7, 3,
			0x18, 0x00, 0x00, 'a', 'b', 'c' };
		unsigned char d0[sizeof d];
		CHECK_EQ(dec(out, 3, &w, d, sizeof d, &u), HDI_EUNSUPP);
		memcpy(d0, d, sizeof d);
		d0[5] = 0;
		CHECK_EQ(dec(out, 3, &w, d0, sizeof d, &u), HDI_OK);
	}
	/* the output full after a block that is not the frame's last: the
	 * rest is not looked at; a block that would overflow is an error */
	{
		static const unsigned char two[] = { 0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x00,
			0x18, 0x00, 0x00, 'a', 'b', 'c', 0x19, 0x00, 0x00, 'd', 'e', 'f' };
		CHECK_EQ(dec(out, 3, &w, two, sizeof two, &u), HDI_OK);
		CHECK(w == 3 && u == 12);
		CHECK_EQ(dec(out, 3, &w, two, 12, &u), HDI_OK);
		CHECK_EQ(dec(out, 6, &w, two, sizeof two, &u), HDI_OK);
		CHECK(w == 6 && memcmp(out, "abcdef", 6) == 0);
		CHECK_EQ(dec(out, 4, &w, two, sizeof two, &u), HDI_ECORRUPT);
	}
	/* a sequences section whose FSE table description needs more bytes
	 * than the block has (libzstd 1.5 reads on from bits it used) */
	{
		static const unsigned char past[] = { 0x28, 0xB5, 0x2F, 0xFD, 0x00,
			0x00, 0x4D, 0x00, 0x00, 0x00, 0x80, 0x00, 0x08, 0x01, 0x00,
			0x01, 0x00, 0x2C };
		CHECK_EQ(dec(out, 8, &w, past, sizeof past, &u), HDI_ECORRUPT);
	}
	/* zero-length non-last blocks until the input ends: an error, quickly */
	{
		size_t n = 1u << 20, i;
		unsigned char *z = malloc(n);
		memcpy(z, "\x28\xB5\x2F\xFD\x00\x00", 6);       /* window 1 KiB */
		for (i = 6; i + 3 <= n; i += 3)
			memcpy(z + i, "\x00\x00\x00", 3);
		CHECK_EQ(dec(out, 10, &w, z, i, &u), HDI_ECORRUPT);
		/* a last one ends the frame: empty output, all consumed */
		z[i - 3] = 1;
		CHECK_EQ(dec(out, 10, &w, z, i, &u), HDI_OK);
		CHECK(w == 0 && u == i);
		free(z);
	}
	/* a block bigger than the window (no content size: streaming) */
	{
		static const unsigned char big[] = { 0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x00,
			0x03, 0x40, 0x00, 'y' };                /* RLE of 2048 > 1 KiB */
		static unsigned char o2[4096];
		CHECK_EQ(hdi_zstd_decompress(o2, sizeof o2, &w, big, sizeof big, &u,
					     work, sizeof work), HDI_ECORRUPT);
	}
	/* workspace */
	CHECK_EQ(hdi_zstd_decompress(out, 3, &w, raw, sizeof raw, &u, work,
				     HDI_ZSTD_WORK_SIZE - 1), HDI_ENOMEM);
	/* unaligned workspace */
	{
		static unsigned char wk[HDI_ZSTD_WORK_SIZE + 1];
		CHECK_EQ(hdi_zstd_decompress(out, 3, &w, raw, sizeof raw, &u, wk + 1,
					     HDI_ZSTD_WORK_SIZE), HDI_OK);
	}
}

/* Truncations and bit flips of real frames: errors, never a crash; a
 * flip that still decodes must come back as the right size. */
TEST(zstd_hostile)
{
	enum { N = 70000 };
	static unsigned char in[N], c[N + 1024], m[N + 1024], out[N];
	size_t cn, i, w, u;
	int kind, ok_cut = 0;
	for (kind = 0; kind < 6; kind++) {
		fill(in, N, kind);
		cn = zc(c, sizeof c, in, N, 3 + kind, 0, 1, kind & 1);
		for (i = 0; i < cn; i += 1 + i / 64) {
			if (dec(out, N, &w, c, i, &u) == HDI_OK && w == N)
				ok_cut++;
			CHECK(w <= N && u <= i);
		}
		for (i = 0; i < 3000; i++) {
			size_t pos = rnd() % cn;
			int r;
			memcpy(m, c, cn);
			m[pos] ^= (unsigned char)(1u << (rnd() & 7));
			if (rnd() & 1)
				m[rnd() % cn] = (unsigned char)rnd();
			r = dec(out, N, &w, m, cn, &u);
			CHECK(r == HDI_OK || r == HDI_ECORRUPT || r == HDI_EUNSUPP);
			CHECK(w <= N && u <= cn);
		}
	}
	CHECK_EQ(ok_cut, 0);
}
