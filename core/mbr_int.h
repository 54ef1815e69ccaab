/* core/mbr_int.h: what the core/mbr*.c files share: whole-sector I/O
 * through the caller's buffer, and entry encode/decode. */
#ifndef HDI_CORE_MBR_INT_H
#define HDI_CORE_MBR_INT_H

#include "hdi/mbr.h"
#include "util.h"

/* The library's own bookkeeping in struct hdi_mbr: what changed since the
 * table was read, so hdi_mbr_write writes exactly that. */
/* hdi_mbr_part.flags */
#define HDI_MBR_PF_WRITE   0x01u  /* entry changed: encode it on write */
#define HDI_MBR_PF_CHS     0x02u  /* position changed: recompute CHS */
#define HDI_MBR_PF_LINK    0x04u  /* logical: the EBR's link entry changed */
#define HDI_MBR_PF_ONDISK  0x08u  /* logical: its EBR sector is on disk now */
/* hdi_mbr.dirty */
#define HDI_MBR_D_ID       0x01u   /* disk signature changed */
#define HDI_MBR_D_EMPTYEBR 0x02u   /* write an empty EBR at the extended start */

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
