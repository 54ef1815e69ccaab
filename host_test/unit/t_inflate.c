/* host_test/unit/t_inflate.c: hdi_inflate_raw against zlib: round trips at
 * many sizes, levels and strategies, and QEMU's qcow2_decompress semantics
 * (zlib driven as QEMU drives it) on truncated and corrupted streams. */
#include "unit.h"
#include "hdi/inflate.h"
#include "hdi/errors.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static unsigned char work_buf[HDI_INFLATE_WORK_SIZE + 8];

/* kind 0 random, 1 zeros, 2 words (text-like), 3 small alphabet,
 * 4 runs and repeats at far distances, 5 mixed random/compressible. */
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
			size_t len = 3 + rnd() % 300, d = 1 + rnd() % 32768;
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
			int k = (int)(rnd() % 5);
			if (len > n - i)
				len = n - i;
			fill(p + i, len, k);
			i += len;
		}
		}
	}
}

/* Raw deflate with zlib. Returns the compressed length. */
static size_t zdeflate(unsigned char *out, size_t cap, const unsigned char *in,
		       size_t n, int level, int wbits, int strategy)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, level, Z_DEFLATED, -wbits, 8, strategy) != Z_OK)
		return 0;
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		return 0;
	}
	deflateEnd(&z);
	return z.total_out;
}

/* QEMU's qcow2_decompress: success only when dst is filled. */
static int qemu_decompress(unsigned char *dst, size_t dn, const unsigned char *src, size_t sn)
{
	z_stream z;
	int r;
	memset(&z, 0, sizeof z);
	z.next_in = (unsigned char *)src;
	z.avail_in = (uInt)sn;
	z.next_out = dst;
	z.avail_out = (uInt)dn;
	if (inflateInit2(&z, -12) != Z_OK)
		return -1;
	r = inflate(&z, Z_FINISH);
	r = ((r == Z_STREAM_END || r == Z_BUF_ERROR) && z.avail_out == 0) ? 0 : -1;
	inflateEnd(&z);
	return r;
}

/* Ours, judged the way qcow2 will: success when dst is full. */
static int our_decompress(unsigned char *dst, size_t dn, const unsigned char *src, size_t sn)
{
	size_t w = 0, u = 0;
	int r = hdi_inflate_raw(dst, dn, &w, src, sn, &u, work_buf, HDI_INFLATE_WORK_SIZE);
	if (u > sn || w > dn)
		return -2;
	return (r == HDI_OK && w == dn) ? 0 : -1;
}

static int roundtrip(size_t n, int kind, int level, int wbits, int strategy)
{
	size_t cap = n + n / 8 + 1024, w = 1, u = 1;
	unsigned char *in = malloc(n + 1), *c = malloc(cap), *out = malloc(n + 64);
	size_t cn;
	int r, bad = 0;

	fill(in, n, kind);
	cn = zdeflate(c, cap, in, n, level, wbits, strategy);
	if (!cn) {
		bad = 1;
		goto out;
	}
	/* exact size, then a larger dst (final block ends first) */
	r = hdi_inflate_raw(out, n, &w, c, cn, &u, work_buf, sizeof work_buf);
	if (r != HDI_OK || w != n || u != cn || memcmp(in, out, n))
		bad |= 2;
	r = hdi_inflate_raw(out, n + 64, &w, c, cn, &u, work_buf, sizeof work_buf);
	if (r != HDI_OK || w != n || u != cn || memcmp(in, out, n))
		bad |= 4;
	/* a shorter dst is filled and succeeds, like QEMU */
	if (n > 1) {
		size_t half = n / 2;
		memset(out, 0xaa, n);
		r = hdi_inflate_raw(out, half, &w, c, cn, &u, work_buf, sizeof work_buf);
		if (r != HDI_OK || w != half || u > cn || memcmp(in, out, half) || out[half] != 0xaa)
			bad |= 8;
	}
out:
	if (bad)
		fprintf(stderr, "roundtrip n=%zu kind=%d level=%d wbits=%d strat=%d: %d\n",
			n, kind, level, wbits, strategy, bad);
	free(in);
	free(c);
	free(out);
	return bad;
}

TEST(inflate_roundtrip_sizes_levels)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 4, 7, 8, 9, 31, 100, 255, 256, 257,
		258, 259, 511, 512, 1000, 4095, 4096, 4097, 32768, 65535, 65536,
		65537, 100000 };
	size_t i;
	int kind, level, fails = 0;
	for (i = 0; i < NELEM(sizes); i++)
		for (kind = 0; kind < 6; kind++)
			for (level = 0; level <= 9; level++)
				fails += roundtrip(sizes[i], kind, level, 15, Z_DEFAULT_STRATEGY) != 0;
	CHECK_EQ(fails, 0);
}

TEST(inflate_roundtrip_strategies_windows)
{
	static const int strategies[] = { Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED };
	static const size_t sizes[] = { 1, 300, 5000, 65536, 300000 };
	size_t i, s;
	int kind, fails = 0, wbits;
	for (s = 0; s < NELEM(strategies); s++)
		for (i = 0; i < NELEM(sizes); i++)
			for (kind = 0; kind < 6; kind++)
				fails += roundtrip(sizes[i], kind, 6, 15, strategies[s]) != 0;
	for (wbits = 9; wbits <= 15; wbits++)
		for (kind = 0; kind < 6; kind++)
			fails += roundtrip(70000, kind, 9, wbits, Z_DEFAULT_STRATEGY) != 0;
	CHECK_EQ(fails, 0);
}

TEST(inflate_qcow2_cluster_sizes)
{
	size_t n;
	int kind, fails = 0;
	/* what qcow2 stores: clusters 512 B .. 2 MiB, window -12 as QEMU writes */
	for (n = 512; n <= 2u << 20; n <<= 1)
		for (kind = 0; kind < 6; kind++)
			fails += roundtrip(n, kind, Z_DEFAULT_COMPRESSION, 12, Z_DEFAULT_STRATEGY) != 0;
	CHECK_EQ(fails, 0);
}

TEST(inflate_trailing_garbage_and_src_used)
{
	unsigned char in[5000], c[8000], out[5000];
	size_t cn, w, u, i;
	fill(in, sizeof in, 2);
	cn = zdeflate(c, sizeof c, in, sizeof in, 6, 12, Z_DEFAULT_STRATEGY);
	CHECK(cn > 0 && cn + 600 < sizeof c);
	for (i = cn; i < cn + 600; i++)
		c[i] = (unsigned char)rnd();
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, c, cn + 600, &u, work_buf, sizeof work_buf), HDI_OK);
	CHECK_EQ(w, sizeof in);
	CHECK_EQ(u, cn);
	CHECK(memcmp(in, out, sizeof in) == 0);
	/* dst larger than the data: final block ends, written tells the truth */
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, c, cn, NULL, work_buf, sizeof work_buf), HDI_OK);
	CHECK_EQ(w, sizeof in);
}

TEST(inflate_workspace_checks)
{
	unsigned char c[64], out[64], in[64];
	size_t cn, w = 99, u = 99, off;
	memset(in, 'x', sizeof in);
	cn = zdeflate(c, sizeof c, in, sizeof in, 9, 15, Z_DEFAULT_STRATEGY);
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, c, cn, &u, work_buf,
				 HDI_INFLATE_WORK_SIZE - 1), HDI_ENOMEM);
	CHECK_EQ(w, 0);
	CHECK_EQ(u, 0);
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, c, cn, &u, NULL, 1u << 20), HDI_ENOMEM);
	for (off = 0; off < 8; off++) {         /* any alignment of work */
		memset(out, 0, sizeof out);
		CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, c, cn, &u, work_buf + off,
					 HDI_INFLATE_WORK_SIZE), HDI_OK);
		CHECK(memcmp(in, out, sizeof in) == 0);
	}
	/* empty input: truncated */
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, c, 0, &u, work_buf, sizeof work_buf), HDI_ECORRUPT);
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, NULL, 0, &u, work_buf, sizeof work_buf), HDI_ECORRUPT);
}

/* Hand-made streams for the edges. */
TEST(inflate_crafted_streams)
{
	unsigned char out[300];
	size_t w, u;
	/* stored final block "abc" */
	static const unsigned char st[] = { 0x01, 0x03, 0x00, 0xfc, 0xff, 'a', 'b', 'c' };
	/* stored with LEN/NLEN mismatch */
	static const unsigned char stbad[] = { 0x01, 0x03, 0x00, 0xfc, 0xfe, 'a', 'b', 'c' };
	/* block type 3 */
	static const unsigned char bt3[] = { 0x07, 0x00 };
	/* fixed block: one match at distance 1 with nothing before it */
	static const unsigned char far[] = { 0x03, 0x02, 0x00 };
	/* fixed block "a" then EOB, final */
	static const unsigned char fa[] = { 0x4b, 0x04, 0x00 };
	/* non-final empty stored, then final empty fixed */
	static const unsigned char two[] = { 0x00, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00 };

	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, st, sizeof st, &u, work_buf, sizeof work_buf), HDI_OK);
	CHECK_EQ(w, 3);
	CHECK_EQ(u, sizeof st);
	CHECK(memcmp(out, "abc", 3) == 0);
	CHECK_EQ(hdi_inflate_raw(out, 2, &w, st, sizeof st, &u, work_buf, sizeof work_buf), HDI_OK);
	CHECK_EQ(w, 2);
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, st, sizeof st - 1, &u, work_buf, sizeof work_buf), HDI_ECORRUPT);
	CHECK_EQ(w, 2);
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, stbad, sizeof stbad, &u, work_buf, sizeof work_buf), HDI_ECORRUPT);
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, bt3, sizeof bt3, &u, work_buf, sizeof work_buf), HDI_ECORRUPT);
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, far, sizeof far, &u, work_buf, sizeof work_buf), HDI_ECORRUPT);
	CHECK_EQ(w, 0);
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, fa, sizeof fa, &u, work_buf, sizeof work_buf), HDI_OK);
	CHECK_EQ(w, 1);
	CHECK_EQ(out[0], 'a');
	CHECK_EQ(hdi_inflate_raw(out, sizeof out, &w, two, sizeof two, &u, work_buf, sizeof work_buf), HDI_OK);
	CHECK_EQ(w, 0);
	CHECK_EQ(u, sizeof two);
	/* each agrees with QEMU's zlib-based verdict for a 1..3 byte cluster */
	{
		const unsigned char *s[] = { st, stbad, bt3, far, fa, two };
		size_t sl[] = { sizeof st, sizeof stbad, sizeof bt3, sizeof far, sizeof fa, sizeof two };
		size_t i, dn;
		unsigned char a[4], b[4];
		for (i = 0; i < 6; i++)
			for (dn = 0; dn <= 3; dn++)
				CHECK_EQ(our_decompress(a, dn, s[i], sl[i]), qemu_decompress(b, dn, s[i], sl[i]));
	}
}

/* Truncations and corruptions must get QEMU's verdict exactly, and the
 * same bytes on success. */
static int compare_verdict(const unsigned char *c, size_t cn, size_t dn,
			   unsigned char *a, unsigned char *b)
{
	int ra = our_decompress(a, dn, c, cn), rb = qemu_decompress(b, dn, c, cn);
	if (ra != rb || (ra == 0 && memcmp(a, b, dn)))
		return 1;
	return 0;
}

TEST(inflate_truncated_like_qemu)
{
	static const int kinds[] = { 0, 2, 4, 5 };
	unsigned char in[4096], c[6000], a[4096], b[4096];
	size_t k, cn, t;
	int level, fails = 0;
	for (k = 0; k < NELEM(kinds); k++)
		for (level = 0; level <= 9; level += 3) {
			fill(in, sizeof in, kinds[k]);
			cn = zdeflate(c, sizeof c, in, sizeof in, level, 12, Z_DEFAULT_STRATEGY);
			for (t = 0; t <= cn; t++) {
				fails += compare_verdict(c, t, sizeof in, a, b);
				fails += compare_verdict(c, t, sizeof in / 3, a, b);
			}
		}
	CHECK_EQ(fails, 0);
}

TEST(inflate_corrupted_like_qemu)
{
	unsigned char in[8192], c[12000], m[12000], a[8192], b[8192];
	size_t cn, i, dn;
	int trial, fails = 0, kind;
	for (trial = 0; trial < 6000; trial++) {
		kind = trial % 6;
		dn = 1 + rnd() % sizeof in;
		fill(in, dn, kind);
		cn = zdeflate(c, sizeof c, in, dn, (int)(rnd() % 10), 12,
			      trial % 7 == 0 ? Z_FIXED : Z_DEFAULT_STRATEGY);
		memcpy(m, c, cn);
		switch (trial % 4) {
		case 0:         /* a few bit flips */
			for (i = 0; i < 1 + rnd() % 4; i++)
				m[rnd() % cn] ^= (unsigned char)(1u << (rnd() % 8));
			break;
		case 1:         /* flips in the first bytes: block headers, tables */
			for (i = 0; i < 1 + rnd() % 3; i++)
				m[rnd() % (cn < 40 ? cn : 40)] ^= (unsigned char)(1u << (rnd() % 8));
			break;
		case 2:         /* a random byte run */
			for (i = rnd() % cn; i < cn && rnd() % 16; i++)
				m[i] = (unsigned char)rnd();
			break;
		default:        /* pure noise */
			for (i = 0; i < cn; i++)
				m[i] = (unsigned char)rnd();
		}
		fails += compare_verdict(m, cn, dn, a, b);
		fails += compare_verdict(m, cn, dn / 2, a, b);
		fails += compare_verdict(m, rnd() % (cn + 1), dn, a, b);
	}
	CHECK_EQ(fails, 0);
}
