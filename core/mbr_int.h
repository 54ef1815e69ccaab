/* core/mbr_int.h: what the core/mbr*.c files share: whole-sector I/O
 * through the caller's buffer, and entry encode/decode. */
#ifndef HDI_CORE_MBR_INT_H
#define HDI_CORE_MBR_INT_H

#include "hdi/mbr.h"
#include "util.h"

/* One 512-byte sector at lba into/from sec (which is m->buf or inside it);
 * a device with a granule above 512 goes through the bounce half of buf. */
int hdi_mbr_sec_read(const struct hdi_bdev *dev, uint8_t *buf, uint64_t lba);
int hdi_mbr_sec_write(const struct hdi_bdev *dev, uint8_t *buf, uint64_t lba);

static inline bool hdi_mbr_has_magic(const uint8_t *sec)
{
	return sec[HDI_MBR_OFF_MAGIC] == 0x55 && sec[HDI_MBR_OFF_MAGIC + 1] == 0xAA;
}
static inline void hdi_mbr_set_magic(uint8_t *sec)
{
	sec[HDI_MBR_OFF_MAGIC] = 0x55;
	sec[HDI_MBR_OFF_MAGIC + 1] = 0xAA;
}
static inline uint8_t *hdi_mbr_entry(uint8_t *sec, unsigned i)
{
	return sec + HDI_MBR_OFF_TABLE + i * HDI_MBR_ENTRY_SIZE;
}
/* Last sector of p (start + count - 1, or start for count 0), 64-bit. */
static inline uint64_t hdi_mbr_end(const struct hdi_mbr_part *p)
{
	return (uint64_t)p->start + p->count - (p->count ? 1u : 0u);
}
/* The extended partition whose chain was read, or NULL. */
static inline const struct hdi_mbr_part *hdi_mbr_ext(const struct hdi_mbr *m)
{
	return m->ext ? &m->p[m->ext - 1] : 0;
}

#endif
