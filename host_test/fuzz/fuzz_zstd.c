/* host_test/fuzz/fuzz_zstd.c: libFuzzer target for the zstd decoder alone,
 * driven as the qcow2 read path drives it. Input: 3 bytes of output size
 * (big-endian, at most 2 MiB: a cluster), then the compressed bytes. The
 * contract: HDI_OK, HDI_ECORRUPT or HDI_EUNSUPP; no byte read or written
 * outside the exact-size buffers (ASan); counts inside the buffers; OK
 * means the output is full or the input ended at a frame's end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hdi/zstd.h"
#include "hdi/errors.h"

#define FZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char work[HDI_ZSTD_WORK_SIZE];
	size_t dn, sn, w = 0, u = 0;
	unsigned char *src, *dst;
	int r;
	if (size < 3)
		return 0;
	dn = (((size_t)data[0] << 16) | ((size_t)data[1] << 8) | data[2]) & 0x3FFFFF;
	if (dn > (2u << 20))
		dn = 2u << 20;
	sn = size - 3;
	/* exact-size heap copies, so ASan sees any byte out of bounds */
	src = malloc(sn ? sn : 1);
	dst = malloc(dn ? dn : 1);
	FZ_ASSERT(src && dst);
	memcpy(src, data + 3, sn);
	r = hdi_zstd_decompress(dst, dn, &w, src, sn, &u, work, sizeof work);
	FZ_ASSERT(r == HDI_OK || r == HDI_ECORRUPT || r == HDI_EUNSUPP);
	FZ_ASSERT(w <= dn && u <= sn);
	if (r == HDI_OK)
		FZ_ASSERT(w == dn || u == sn);
	free(src);
	free(dst);
	return 0;
}
