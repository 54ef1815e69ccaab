/* kernel_shim/ata.c: ATA PIO driver behind the hdi_bdev vtable. Polled,
 * interrupts masked (nIEN), LBA28 where it reaches and LBA48 beyond, and
 * READ/WRITE MULTIPLE when the drive offers it (fewer DRQ waits, and QEMU
 * serves a whole block per host request). Every wait is bounded. */
#include <stdbool.h>
#include "ata.h"
#include "shim.h"

/* Command block registers (offsets from io) */
#define R_DATA    0
#define R_ERROR   1
#define R_FEAT    1
#define R_COUNT   2
#define R_LBA0    3
#define R_LBA1    4
#define R_LBA2    5
#define R_DEVICE  6
#define R_STATUS  7
#define R_CMD     7

#define ST_ERR  0x01u
#define ST_DRQ  0x08u
#define ST_DF   0x20u
#define ST_DRDY 0x40u
#define ST_BSY  0x80u

#define CTL_NIEN 0x02u
#define CTL_SRST 0x04u

#define CMD_READ          0x20u
#define CMD_READ_EXT      0x24u
#define CMD_READ_MULT     0xc4u
#define CMD_READ_MULT_EXT 0x29u
#define CMD_WRITE         0x30u
#define CMD_WRITE_EXT     0x34u
#define CMD_WRITE_MULT    0xc5u
#define CMD_WRITE_MULT_EXT 0x39u
#define CMD_SET_MULT      0xc6u
#define CMD_FLUSH         0xe7u
#define CMD_FLUSH_EXT     0xeau
#define CMD_IDENTIFY      0xecu

#define SECTOR 512u
#define CHUNK  256u   /* sectors per command: LBA28's maximum */
#define LBA28_LIMIT (1ull << 28)

static uint8_t alt_status(const struct k_ata *a)
{
	return k_inb(a->ctl);
}

/* The drive needs 400 ns after a select or a command before its status
 * means anything; four alternate-status reads take at least that. */
static void delay400(const struct k_ata *a)
{
	int i;
	for (i = 0; i < 4; i++)
		(void)alt_status(a);
}

/* Waits for BSY to clear; returns the status or HDI_ETIMEDOUT. */
static int wait_ready(const struct k_ata *a)
{
	uint32_t spin = a->spin;
	uint8_t s;
	do {
		s = alt_status(a);
		if (!(s & ST_BSY))
			return s;
	} while (--spin);
	return HDI_ETIMEDOUT;
}

/* Waits until the drive wants data (DRQ) or reports the command's end. */
static int wait_drq(const struct k_ata *a)
{
	int s = wait_ready(a);
	if (s < 0)
		return s;
	if (s & (ST_ERR | ST_DF))
		return HDI_EIO;
	return (s & ST_DRQ) ? HDI_OK : HDI_EIO;
}

/* Waits for the end of a command that transfers no (more) data. */
static int wait_done(const struct k_ata *a)
{
	int s = wait_ready(a);
	if (s < 0)
		return s;
	(void)k_inb(a->io + R_STATUS);   /* acknowledge */
	return (s & (ST_ERR | ST_DF)) ? HDI_EIO : HDI_OK;
}

static void insw(uint16_t port, void *buf, uint32_t words)
{
	__asm__ volatile("rep insw"
			 : "+D"(buf), "+c"(words)
			 : "d"(port)
			 : "memory");
}

static void outsw(uint16_t port, const void *buf, uint32_t words)
{
	__asm__ volatile("rep outsw"
			 : "+S"(buf), "+c"(words)
			 : "d"(port)
			 : "memory");
}

/* Selects the drive (with LBA bits 27..24 for LBA28) once it is idle. */
static int ata_select(const struct k_ata *a, uint8_t bits)
{
	int s = wait_ready(a);
	if (s < 0)
		return s;
	k_outb(a->io + R_DEVICE, (uint8_t)(bits | (a->slave << 4)));
	delay400(a);
	s = wait_ready(a);
	return s < 0 ? s : HDI_OK;
}

/* Issues a read or write of count (1..CHUNK) sectors at lba. */
static int issue(const struct k_ata *a, uint64_t lba, uint32_t count, bool wr)
{
	bool ext = lba + count > LBA28_LIMIT;
	uint8_t cmd;
	int r;
	if (ext && !a->lba48)
		return HDI_EINVAL;
	r = ata_select(a, ext ? 0x40u : (uint8_t)(0xe0u | ((lba >> 24) & 0x0fu)));
	if (r < 0)
		return r;
	if (ext) {
		/* High-order bytes first: each register is a two-deep FIFO. */
		k_outb(a->io + R_COUNT, (uint8_t)(count >> 8));
		k_outb(a->io + R_LBA0, (uint8_t)(lba >> 24));
		k_outb(a->io + R_LBA1, (uint8_t)(lba >> 32));
		k_outb(a->io + R_LBA2, (uint8_t)(lba >> 40));
	}
	k_outb(a->io + R_COUNT, (uint8_t)count);   /* 256 is written as 0 */
	k_outb(a->io + R_LBA0, (uint8_t)lba);
	k_outb(a->io + R_LBA1, (uint8_t)(lba >> 8));
	k_outb(a->io + R_LBA2, (uint8_t)(lba >> 16));
	if (a->multi)
		cmd = wr ? (ext ? CMD_WRITE_MULT_EXT : CMD_WRITE_MULT)
			 : (ext ? CMD_READ_MULT_EXT : CMD_READ_MULT);
	else
		cmd = wr ? (ext ? CMD_WRITE_EXT : CMD_WRITE)
			 : (ext ? CMD_READ_EXT : CMD_READ);
	k_outb(a->io + R_CMD, cmd);
	delay400(a);
	return HDI_OK;
}

/* One command's worth: count sectors, in DRQ blocks of a->multi (or 1). */
static int xfer(struct k_ata *a, uint64_t lba, uint8_t *buf, uint32_t count,
		bool wr)
{
	uint32_t block = a->multi ? a->multi : 1u;
	int r = issue(a, lba, count, wr);
	while (r == HDI_OK && count) {
		uint32_t n = count < block ? count : block;
		r = wait_drq(a);
		if (r < 0)
			break;
		if (wr)
			outsw(a->io + R_DATA, buf, n * (SECTOR / 2));
		else
			insw(a->io + R_DATA, buf, n * (SECTOR / 2));
		buf += n * SECTOR;
		count -= n;
		if (!wr)
			delay400(a);   /* status is stale right after a block */
	}
	if (r == HDI_OK && wr)
		r = wait_done(a);     /* a write ends when the last block lands */
	else if (r == HDI_OK)
		(void)k_inb(a->io + R_STATUS);
	return r;
}

static int rw(struct k_ata *a, uint64_t off, uint8_t *buf, size_t len, bool wr)
{
	uint64_t lba = off >> 9, n = len >> 9;   /* SECTOR == 512 */
	if ((off | len) & (SECTOR - 1u) || lba > a->sectors || n > a->sectors - lba)
		return HDI_EINVAL;
	while (n) {
		uint32_t c = n < CHUNK ? (uint32_t)n : CHUNK;
		int r = xfer(a, lba, buf, c, wr);
		if (r < 0)
			return r;
		lba += c;
		buf += (size_t)c * SECTOR;
		n -= c;
	}
	return HDI_OK;
}

static int ata_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	return rw(ctx, off, buf, len, false);
}

static int ata_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	/* rw only reads from buf when wr is true. */
	return rw(ctx, off, (uint8_t *)(uintptr_t)buf, len, true);
}

static int ata_flush(void *ctx)
{
	struct k_ata *a = ctx;
	int r;
	if (!a->flush_cmd)
		return HDI_OK;    /* FLUSH CACHE not supported: nothing to flush */
	r = ata_select(a, 0xe0u);
	if (r < 0)
		return r;
	k_outb(a->io + R_CMD, a->flush_cmd);
	delay400(a);
	return wait_done(a);
}

static int ata_size(void *ctx, uint64_t *bytes)
{
	const struct k_ata *a = ctx;
	*bytes = a->sectors * SECTOR;
	return HDI_OK;
}

static const struct hdi_bdev_ops ata_ops = {
	.version = HDI_BDEV_OPS_VERSION,
	.read = ata_read,
	.write = ata_write,
	.flush = ata_flush,
	.size = ata_size,
	.grow = 0,                /* a disk has the size it has */
};

static void take_model(struct k_ata *a, const uint16_t *id)
{
	int i, n = 40;
	for (i = 0; i < 20; i++) {
		a->model[2 * i] = (char)(id[27 + i] >> 8);
		a->model[2 * i + 1] = (char)id[27 + i];
	}
	while (n > 0 && (a->model[n - 1] == ' ' || a->model[n - 1] == 0))
		n--;
	a->model[n] = 0;
}

/* IDENTIFY DEVICE into id[256]. */
static int identify(struct k_ata *a, uint16_t *id)
{
	int r, s;
	if (k_inb(a->io + R_STATUS) == 0xff)
		return HDI_ENOENT;            /* floating bus: no controller */
	r = ata_select(a, 0xa0u);
	if (r < 0)
		return r == HDI_ETIMEDOUT ? HDI_ENOENT : r;
	k_outb(a->io + R_COUNT, 0);
	k_outb(a->io + R_LBA0, 0);
	k_outb(a->io + R_LBA1, 0);
	k_outb(a->io + R_LBA2, 0);
	k_outb(a->io + R_CMD, CMD_IDENTIFY);
	delay400(a);
	if (k_inb(a->io + R_STATUS) == 0)
		return HDI_ENOENT;            /* no drive at this position */
	s = wait_ready(a);
	if (s < 0)
		return s;
	/* ATAPI and SATA devices abort IDENTIFY and leave a signature. */
	if (k_inb(a->io + R_LBA1) || k_inb(a->io + R_LBA2))
		return HDI_EUNSUPP;
	r = wait_drq(a);
	if (r < 0)
		return r;
	insw(a->io + R_DATA, id, 256);
	(void)k_inb(a->io + R_STATUS);
	return HDI_OK;
}

/* SET MULTIPLE MODE; a drive that refuses it just goes sector by sector. */
static void set_multiple(struct k_ata *a, unsigned max)
{
	a->multi = 0;
	if (!max || ata_select(a, 0xe0u) < 0)
		return;
	k_outb(a->io + R_COUNT, (uint8_t)max);
	k_outb(a->io + R_CMD, CMD_SET_MULT);
	delay400(a);
	if (wait_done(a) == HDI_OK)
		a->multi = (uint16_t)max;
}

int k_ata_open(struct k_ata *a, unsigned bus, unsigned drive)
{
	uint16_t id[256];
	int r;
	if (bus > K_ATA_SECONDARY || drive > K_ATA_SLAVE)
		return HDI_EINVAL;
	a->io = bus ? 0x170 : 0x1f0;
	a->ctl = bus ? 0x376 : 0x3f6;
	a->slave = (uint8_t)drive;
	a->multi = 0;
	a->spin = K_ATA_SPIN;
	k_outb(a->ctl, CTL_NIEN);           /* polled: no IRQs */
	r = identify(a, id);
	if (r < 0)
		return r;
	if (!(id[49] & (1u << 9)))
		return HDI_EUNSUPP;           /* CHS-only drive */
	a->lba48 = (id[83] & (1u << 10)) != 0;
	a->flush_cmd = a->lba48 && (id[83] & (1u << 13)) ? CMD_FLUSH_EXT
		     : (id[83] & (1u << 12)) ? CMD_FLUSH : 0;
	if (a->lba48)
		a->sectors = (uint64_t)id[100] | (uint64_t)id[101] << 16 |
			     (uint64_t)id[102] << 32 | (uint64_t)id[103] << 48;
	else
		a->sectors = (uint32_t)id[60] | (uint32_t)id[61] << 16;
	take_model(a, id);
	/* Word 47: largest DRQ block, a power of two up to 128 in practice. */
	if ((id[47] & 0xffu) && !((id[47] & 0xffu) & ((id[47] & 0xffu) - 1u)))
		set_multiple(a, id[47] & 0xffu);
	a->bdev.ops = &ata_ops;
	a->bdev.ctx = a;
	a->bdev.granule = SECTOR;
	a->bdev.flags = 0;
	return HDI_OK;
}
