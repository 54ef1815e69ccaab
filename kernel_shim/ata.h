/* kernel_shim/ata.h: an ATA PIO disk as an hdi_bdev: primary or secondary
 * bus, master or slave, LBA28 and LBA48, 512-byte sectors, polled. */
#ifndef K_ATA_H
#define K_ATA_H

#include <stdint.h>
#include "hdi/bdev.h"

#define K_ATA_PRIMARY   0u   /* ports 0x1F0..0x1F7, control 0x3F6 */
#define K_ATA_SECONDARY 1u   /* ports 0x170..0x177, control 0x376 */
#define K_ATA_MASTER    0u
#define K_ATA_SLAVE     1u

/* How long to poll a status bit before HDI_ETIMEDOUT: reads of the
 * alternate status register, each ~1 us on ISA-timed hardware (so ~30 s,
 * the ATA spin-up bound). */
#define K_ATA_SPIN 30000000u

struct k_ata {
	struct hdi_bdev bdev;     /* what the core uses; granule 512 */
	uint16_t io, ctl;         /* command block and control ports */
	uint8_t slave;
	uint8_t lba48;            /* LBA48 commands supported */
	uint8_t flush_cmd;        /* FLUSH CACHE (EXT) opcode; 0: unsupported */
	uint16_t multi;           /* sectors per DRQ block (READ/WRITE MULTIPLE); 0: one */
	uint32_t spin;            /* polls before HDI_ETIMEDOUT (K_ATA_SPIN) */
	uint64_t sectors;
	char model[41];           /* IDENTIFY words 27..46, trimmed */
};

/* Probes and identifies a drive. HDI_ENOENT: nothing there; HDI_EUNSUPP:
 * not an ATA disk (ATAPI, SATA signature) or no LBA; HDI_EIO: the drive
 * reported an error; HDI_ETIMEDOUT: it stayed busy. On success a->bdev is
 * ready (a->bdev.ctx == a). */
int k_ata_open(struct k_ata *a, unsigned bus, unsigned drive);

#endif
