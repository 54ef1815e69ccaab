/* host_test/fuzz/fuzz_inflate.c: libFuzzer target, differential against
 * zlib driven as QEMU's qcow2_decompress drives it. Input: 2 bytes of output
 * size (big-endian), then the raw deflate stream. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "hdi/inflate.h"
#include "hdi/errors.h"

#define FZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char work[HDI_INFLATE_WORK_SIZE];
	size_t dn, sn, w = 0, u = 0;
	const uint8_t *src;
	unsigned char *a, *b;
	z_stream z;
	int r, zr, zok;

	if (size < 2)
		return 0;
	dn = ((size_t)data[0] << 8) | data[1];
	/* exact-size heap copies, so ASan sees any byte out of bounds */
	src = size > 2 ? memcpy(malloc(size - 2), data + 2, size - 2) : NULL;
	sn = size - 2;
	a = malloc(dn ? dn : 1);
	b = malloc(dn ? dn : 1);
	FZ_ASSERT(a && b && (src || !sn));

	r = hdi_inflate_raw(a, dn, &w, src, sn, &u, work, sizeof work);
	FZ_ASSERT(r == HDI_OK || r == HDI_ECORRUPT);
	FZ_ASSERT(w <= dn && u <= sn);

	memset(&z, 0, sizeof z);
	z.next_in = (unsigned char *)src;
	z.avail_in = (uInt)sn;
	z.next_out = b;
	z.avail_out = (uInt)dn;
	FZ_ASSERT(inflateInit2(&z, -15) == Z_OK);
	zr = inflate(&z, Z_FINISH);
	zok = zr == Z_STREAM_END || (zr == Z_BUF_ERROR && z.avail_out == 0);
	if (zok != (r == HDI_OK)) {
		fprintf(stderr, "fuzz: verdict differs: ours %d (wrote %zu) zlib %d (wrote %lu)\n",
			r, w, zr, z.total_out);
		abort();
	}
	if (zok) {
		FZ_ASSERT(w == z.total_out);
		FZ_ASSERT(memcmp(a, b, w) == 0);
		if (zr == Z_STREAM_END)
			FZ_ASSERT(u == z.total_in);
	}
	inflateEnd(&z);
	free((void *)src);
	free(a);
	free(b);
	return 0;
}
