/* core/util.h: the core's portability layer: byte-order load/store,
 * overflow-checked arithmetic, and the four mem* functions a kernel supplies. */
#ifndef HDI_CORE_UTIL_H
#define HDI_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "hdi/config.h"

/* A file its configuration compiles out (hdi/config.h) still holds this
 * declaration, so it stays a valid C unit. */
extern int hdi_config_unit_;

/* Invariants of the library itself, never of disk contents. */
#define HDI_ASSERT(cond) HDI_CONFIG_ASSERT(cond)

/* Freestanding headers do not declare these; the host's libc or
 * kernel_shim/mem.c provides them. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* Disk bytes are read and written a byte at a time, so the code is right on
 * any CPU endianness and any alignment. qcow2 is big-endian, MBR little. */
static inline uint16_t hdi_ld_be16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)((b[0] << 8) | b[1]);
}
static inline uint32_t hdi_ld_be32(const void *p)
{
	const uint8_t *b = p;
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
	       ((uint32_t)b[2] << 8) | b[3];
}
static inline uint64_t hdi_ld_be64(const void *p)
{
	const uint8_t *b = p;
	return ((uint64_t)hdi_ld_be32(b) << 32) | hdi_ld_be32(b + 4);
}
static inline void hdi_st_be16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}
static inline void hdi_st_be32(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}
static inline void hdi_st_be64(void *p, uint64_t v)
{
	hdi_st_be32(p, (uint32_t)(v >> 32));
	hdi_st_be32((uint8_t *)p + 4, (uint32_t)v);
}
static inline uint16_t hdi_ld_le16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | (b[1] << 8));
}
static inline uint32_t hdi_ld_le32(const void *p)
{
	const uint8_t *b = p;
	return b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
	       ((uint32_t)b[3] << 24);
}
static inline void hdi_st_le16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}
static inline void hdi_st_le32(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* a + b into *r; false on overflow. */
static inline bool hdi_add_ok(uint64_t a, uint64_t b, uint64_t *r)
{
	return !__builtin_add_overflow(a, b, r);
}
/* a * b into *r; false on overflow. The builtin avoids a 64-bit division,
 * which would pull libgcc helpers into a 32-bit kernel. */
static inline bool hdi_mul_ok(uint64_t a, uint64_t b, uint64_t *r)
{
	return !__builtin_mul_overflow(a, b, r);
}

static inline uint64_t hdi_min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t hdi_max64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static inline size_t hdi_minsz(size_t a, size_t b) { return a < b ? a : b; }
static inline bool hdi_is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

#define HDI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define HDI_STATIC_ASSERT(cond, msg) typedef char hdi_sa_##msg[(cond) ? 1 : -1]

#endif
