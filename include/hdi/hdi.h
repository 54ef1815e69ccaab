/* hdi/hdi.h: the whole public API in one include, and the library version.
 * Each header below can also be included alone.
 *
 * Concurrency: each header says which calls may run at once. In short: no
 * two calls on one handle overlap; different handles run independently. */
#ifndef HDI_HDI_H
#define HDI_HDI_H

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility push(default)
#endif

/* Semantic version: MAJOR changes break source or binary compatibility,
 * MINOR adds, PATCH fixes. HDI_VERSION is comparable: 0x00MMmmpp. */
#define HDI_VERSION_MAJOR 0
#define HDI_VERSION_MINOR 1
#define HDI_VERSION_PATCH 0
#define HDI_VERSION ((HDI_VERSION_MAJOR << 16) | (HDI_VERSION_MINOR << 8) | \
		     HDI_VERSION_PATCH)

#include "hdi/config.h"
#include "hdi/errors.h"
#include "hdi/bdev.h"
#include "hdi/crc32.h"
#include "hdi/inflate.h"
#include "hdi/qcow2.h"
#include "hdi/mbr.h"
#include "hdi/gpt.h"
#include "hdi/qcow2_measure.h"
#include "hdi/zstd.h"

#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
