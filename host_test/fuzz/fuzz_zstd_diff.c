/* host_test/fuzz/fuzz_zstd_diff.c: libFuzzer target, differential against
 * libzstd driven as QEMU's qcow2_zstd_decompress drives it (streaming into
 * a cluster-sized buffer until it is full). Input: the compressed bytes.
 * Whatever libzstd decodes completely (every frame ended, every input byte
 * used, at most 2 MiB of output; the same in one pass, which also checks
 * content sizes) must decode to the same bytes here, both
 * with the output exactly that size (QEMU's cluster) and with room to
 * spare (then all the input is used). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include "hdi/zstd.h"
#include "hdi/errors.h"

#define FZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

#define OUT_MAX (2u << 20)

/* Set by the decoder (built with HDI_ZSTD_TEST_HOOKS) when it refused a
 * malformed stream that libzstd 1.5 lets through (see core/zstd_int.h). */
extern int hdi_zstd_strict;

/* QEMU's loop: until the output is full, an error, or no progress.
 * Returns the bytes written, or -1 for an error. *done: the input was
 * used up at the end of a frame. */
static long qemu_like(ZSTD_DCtx *d, unsigned char *dst, size_t dn,
		      const unsigned char *src, size_t sn, int *done)
{
	ZSTD_outBuffer o = { dst, dn, 0 };
	ZSTD_inBuffer i = { src, sn, 0 };
	size_t ret = 1;
	ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
	while (o.pos < o.size) {
		size_t ip = i.pos, op = o.pos, r = ZSTD_decompressStream(d, &o, &i);
		if (ZSTD_isError(r))
			return -1;
		if (o.pos == op && i.pos == ip)
			break;
		ret = r;        /* 0: a frame ended and is flushed */
	}
	*done = ret == 0 && i.pos == i.size;
	return (long)o.pos;
}

/* Only zstd frames (v0.8+) and skippable ones: libzstd also decodes the
 * legacy formats of zstd < 0.8, which no qcow2 writer ever used. */
static int modern(const unsigned char *p, size_t n)
{
	while (n >= 4) {
		uint32_t m = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			     (uint32_t)p[3] << 24;
		size_t f;
		if (m != 0xFD2FB528u && (m & ~15u) != 0x184D2A50u)
			return 0;
		f = ZSTD_findFrameCompressedSize(p, n);
		if (ZSTD_isError(f) || f > n)
			return 0;
		p += f;
		n -= f;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char work[HDI_ZSTD_WORK_SIZE];
	static unsigned char *big, *big2;
	static ZSTD_DCtx *d;
	unsigned char *src, *a, *b;
	size_t w = 0, u = 0;
	long t, t2;
	int done, done2, r;
	if (!d) {
		d = ZSTD_createDCtx();
		big = malloc(OUT_MAX + 1);
		big2 = malloc(OUT_MAX + 1);
		FZ_ASSERT(d && big && big2);
		/* an 8 MiB window at most: QEMU's clusters never need more */
		ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 23);
	}
	if (!size)
		return 0;
	src = malloc(size);
	FZ_ASSERT(src);
	memcpy(src, data, size);
	/* what libzstd makes of the whole input: streaming as QEMU does, and
	 * in one pass (which also checks each frame's content size) */
	t = qemu_like(d, big, OUT_MAX + 1, src, size, &done);
	if (t >= 0 && done && t <= (long)OUT_MAX) {
		size_t one = ZSTD_decompressDCtx(d, big2, OUT_MAX + 1, src, size);
		if (ZSTD_isError(one) || one != (size_t)t || memcmp(big, big2, one))
			t = -1;
	}
	if (t < 0 || !done || t > (long)OUT_MAX || !modern(src, size)) {
		free(src);
		return 0;
	}
	a = malloc((size_t)t + 1);
	b = malloc((size_t)t + 1);
	FZ_ASSERT(a && b);
	/* a cluster of exactly that size, as QEMU reads it */
	t2 = qemu_like(d, b, (size_t)t, src, size, &done2);
	hdi_zstd_strict = 0;
	r = hdi_zstd_decompress(a, (size_t)t + 1, &w, src, size, &u, work, sizeof work);
	if (r == HDI_ECORRUPT && hdi_zstd_strict)
		goto out;
	if (t2 == t) {
		r = hdi_zstd_decompress(a, (size_t)t, &w, src, size, &u, work, sizeof work);
		if (r != HDI_OK || w != (size_t)t || memcmp(a, b, (size_t)t)) {
			fprintf(stderr, "fuzz: differs: ours %d wrote %zu, libzstd %ld\n", r, w, t);
			abort();
		}
	}
	/* room to spare: every frame decoded, all the input used */
	r = hdi_zstd_decompress(a, (size_t)t + 1, &w, src, size, &u, work, sizeof work);
	if (r != HDI_OK || w != (size_t)t || u != size || memcmp(a, big, (size_t)t)) {
		fprintf(stderr, "fuzz: differs with room: ours %d wrote %zu used %zu, libzstd %ld of %zu\n",
			r, w, u, t, size);
		abort();
	}
out:
	free(a);
	free(b);
	free(src);
	return 0;
}
