/* core/gpt_int.h: what the core/gpt*.c files share: 64-bit little-endian
 * access, logical-sector I/O through the caller's buffer, header and entry
 * encode/decode. */
#ifndef HDI_CORE_GPT_INT_H
#define HDI_CORE_GPT_INT_H

#include "hdi/gpt.h"
#include "hdi/crc32.h"
#include "util.h"

static inline uint64_t hdi_gpt_ld64(const uint8_t *p)
{
	return hdi_ld_le32(p) | ((uint64_t)hdi_ld_le32(p + 4) << 32);
}
static inline void hdi_gpt_st64(uint8_t *p, uint64_t v)
{
	hdi_st_le32(p, (uint32_t)v);
	hdi_st_le32(p + 4, (uint32_t)(v >> 32));
}

/* One logical sector at lba into or from g->buf (bounce half when the
 * device granule is larger than the sector). */
int hdi_gpt_sec_read(const struct hdi_gpt *g, uint64_t lba);
int hdi_gpt_sec_write(const struct hdi_gpt *g, uint64_t lba);

/* log2 of a logical sector size (512 or 4096): the core divides by
 * shifting (a 64-bit division would need libgcc in a 32-bit kernel). */
unsigned hdi_gpt_shift(uint32_t sector);
/* Resets g for dev and the caller's storage; sizes the disk. */
int hdi_gpt_init(struct hdi_gpt *g, const struct hdi_bdev *dev, uint32_t sector,
		 void *buf, size_t buf_size, struct hdi_gpt_part *parts,
		 uint32_t max_parts);

/* ceil(nentries * entry_size / sector). */
uint64_t hdi_gpt_array_secs(uint32_t nentries, uint32_t entry_size,
			    uint32_t sector);

/* Decodes / encodes one 128-byte entry. */
void hdi_gpt_entry_load(struct hdi_gpt_part *p, const uint8_t *e);
void hdi_gpt_entry_store(uint8_t *e, const struct hdi_gpt_part *p);

/* Last sector of the disk or the table layout: disk_sectors - 1. */
static inline uint64_t hdi_gpt_last_lba(const struct hdi_gpt *g)
{
	return g->disk_sectors - 1u;
}

#endif
