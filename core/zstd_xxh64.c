/* core/zstd_xxh64.c: XXH64 with seed 0, the zstd content checksum
 * (RFC 8878 3.1.1): one pass over a frame's output, no state kept. */
#include "zstd_int.h"

#if HDI_CONFIG_ZSTD

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static uint64_t rotl(uint64_t v, unsigned r)
{
	return (v << r) | (v >> (64 - r));
}

static uint64_t ld64(const uint8_t *p)
{
	return hdi_ld_le32(p) | ((uint64_t)hdi_ld_le32(p + 4) << 32);
}

static uint64_t round1(uint64_t acc, uint64_t in)
{
	return rotl(acc + in * P2, 31) * P1;
}

static uint64_t merge(uint64_t h, uint64_t v)
{
	return (h ^ round1(0, v)) * P1 + P4;
}

uint64_t hdi_zs_xxh64(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;
	uint64_t h;
	if (n >= 32) {
		uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = 0 - P1;
		do {
			v1 = round1(v1, ld64(p));
			v2 = round1(v2, ld64(p + 8));
			v3 = round1(v3, ld64(p + 16));
			v4 = round1(v4, ld64(p + 24));
			p += 32;
		} while ((size_t)(end - p) >= 32);
		h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
		h = merge(merge(merge(merge(h, v1), v2), v3), v4);
	} else {
		h = P5;
	}
	h += (uint64_t)n;
	for (; end - p >= 8; p += 8)
		h = rotl(h ^ round1(0, ld64(p)), 27) * P1 + P4;
	if (end - p >= 4) {
		h = rotl(h ^ (hdi_ld_le32(p) * P1), 23) * P2 + P3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl(h ^ (*p * P5), 11) * P1;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

#endif /* HDI_CONFIG_ZSTD */
