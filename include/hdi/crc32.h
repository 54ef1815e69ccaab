/* hdi/crc32.h: CRC-32 with zlib's (IEEE 802.3, reflected 0xEDB88320)
 * polynomial: the same results as zlib's crc32().
 *
 * Concurrency: no state of its own; any number of calls may run at once. */
#ifndef HDI_CRC32_H
#define HDI_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__) && defined(__ELF__)
/* Only what these headers declare is the library's interface: core is
 * compiled with -fvisibility=hidden, so everything else stays internal. */
#pragma GCC visibility push(default)
#endif

/* Continue a CRC over buf; start with crc = 0. buf may be NULL when
 * len is 0. hdi_crc32(hdi_crc32(0, a, n), b, m) == CRC of a then b. */
uint32_t hdi_crc32(uint32_t crc, const void *buf, size_t len);

#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
