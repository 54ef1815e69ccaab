/* host_test/unit/t_crc32.c: hdi_crc32 against zlib's crc32(). */
#include "unit.h"
#include "hdi/crc32.h"
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

TEST(crc32_known_values)
{
	CHECK_EQ(hdi_crc32(0, "123456789", 9), 0xcbf43926u);   /* the check value */
	CHECK_EQ(hdi_crc32(0, NULL, 0), 0);
	CHECK_EQ(hdi_crc32(0x12345678u, NULL, 0), 0x12345678u);
}

TEST(crc32_matches_zlib)
{
	unsigned char buf[5000];
	size_t i, n, off;
	uint32_t seed = 1, start;
	int fails = 0;
	for (i = 0; i < sizeof buf; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
	for (n = 0; n <= 300; n++)
		for (off = 0; off < 4; off++) {
			start = (uint32_t)(n * 2654435761u);
			if (hdi_crc32(start, buf + off, n) != (uint32_t)crc32(start, buf + off, (uInt)n))
				fails++;
		}
	if (hdi_crc32(0, buf, sizeof buf) != (uint32_t)crc32(0, buf, sizeof buf))
		fails++;
	/* chaining: CRC of a then b equals CRC of a||b */
	for (n = 0; n < sizeof buf; n += 997)
		if (hdi_crc32(hdi_crc32(0, buf, n), buf + n, sizeof buf - n) !=
		    (uint32_t)crc32(0, buf, sizeof buf))
			fails++;
	CHECK_EQ(fails, 0);
}
