/* kernel_shim/ktest.c: a test kernel for the ATA driver, booted by
 * host_test/interop/50_demo_ata.sh. It probes all four IDE positions, reads
 * and writes across command chunks, DRQ blocks, the LBA28/LBA48 boundary and
 * the disk's end on the secondary master and slave, and prints what it read
 * (FNV-1a hashes) so the host can check every byte against the image files.
 * Lines: "HDI-ATA: ...", last "HDI-ATA: PASS" or "HDI-ATA: FAIL <why>". */
#include <stdbool.h>
#include "ata.h"
#include "shim.h"

#define EXIT_PASS 0   /* QEMU exit status 1 */
#define EXIT_FAIL 1   /* QEMU exit status 3 */

static struct k_ata disks[2][2];
static uint8_t buf[300 * 512];
static uint8_t chk[300 * 512];

__attribute__((noreturn)) static void fail(const char *what, int err)
{
	k_logf("HDI-ATA: FAIL %s: %s\n", what, hdi_strerror(err));
	k_qemu_exit(EXIT_FAIL);
}

static uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 0x811c9dc5u;
	while (n--)
		h = (h ^ *p++) * 0x01000193u;
	return h;
}

/* Byte i of sector lba in what we write: depends on all of lba's bytes, so
 * a write that lands on a wrong LBA48 address cannot pass for right. */
static uint8_t pattern(uint64_t lba, unsigned i)
{
	return (uint8_t)(i + lba + (lba >> 8) + (lba >> 16) + (lba >> 24) +
			 (lba >> 32) + 0x5a);
}

static void read_hash(struct k_ata *a, const char *name, uint64_t lba,
		      uint32_t n)
{
	struct hdi_bdev *d = &a->bdev;
	uint16_t multi = a->multi;
	int r = hdi_bdev_read(d, lba << 9, buf, (size_t)n << 9);
	if (r < 0)
		fail("read", r);
	/* The same range again one sector per DRQ block must agree. */
	a->multi = 0;
	r = hdi_bdev_read(d, lba << 9, chk, (size_t)n << 9);
	a->multi = multi;
	if (r < 0)
		fail("read (single-sector blocks)", r);
	if (memcmp(buf, chk, (size_t)n << 9))
		fail("read: multiple and single-sector reads differ", HDI_EIO);
	k_logf("HDI-ATA: read %s %llu %u %08x\n", name,
		 (unsigned long long)lba, (unsigned)n, (unsigned)fnv(buf, (size_t)n << 9));
}

static void write_pattern(struct k_ata *a, const char *name, uint64_t lba,
			  uint32_t n)
{
	struct hdi_bdev *d = &a->bdev;
	uint32_t s;
	unsigned i;
	int r;
	for (s = 0; s < n; s++)
		for (i = 0; i < 512; i++)
			buf[(s << 9) + i] = pattern(lba + s, i);
	r = hdi_bdev_write(d, lba << 9, buf, (size_t)n << 9);
	if (r == HDI_OK)
		r = hdi_bdev_flush(d);
	if (r < 0)
		fail("write", r);
	r = hdi_bdev_read(d, lba << 9, chk, (size_t)n << 9);
	if (r < 0)
		fail("read back", r);
	if (memcmp(buf, chk, (size_t)n << 9))
		fail("read back differs from what was written", HDI_EIO);
	k_logf("HDI-ATA: write %s %llu %u\n", name, (unsigned long long)lba,
		 (unsigned)n);
}

static void probe_all(void)
{
	unsigned bus, drv;
	for (bus = 0; bus < 2; bus++)
		for (drv = 0; drv < 2; drv++) {
			struct k_ata *a = &disks[bus][drv];
			int r = k_ata_open(a, bus, drv);
			if (r == HDI_OK)
				k_logf("HDI-ATA: disk %u.%u sectors %llu lba48 %u multi %u\n",
					 bus, drv, (unsigned long long)a->sectors,
					 a->lba48, a->multi);
			else
				k_logf("HDI-ATA: disk %u.%u absent %s\n", bus, drv,
					 hdi_strerror(r));
			/* Only the slot the test leaves empty may be absent. */
			if ((r != HDI_OK) != (bus == 0 && drv == 1))
				fail("probe", r ? r : HDI_EINVAL);
		}
}

/* Errors: a request past the end is refused before it reaches the drive;
 * one the drive itself rejects (we lie about the size) comes back EIO. */
static void errors(struct k_ata *a)
{
	uint64_t real = a->sectors;
	int r = hdi_bdev_read(&a->bdev, real << 9, buf, 512);
	if (r != HDI_EINVAL)
		fail("read past the end not refused", r ? r : HDI_EINVAL);
	a->sectors = real + 64;
	r = hdi_bdev_read(&a->bdev, (real + 8) << 9, buf, 512);
	a->sectors = real;
	if (r != HDI_EIO)
		fail("drive error not reported", r ? r : HDI_EINVAL);
	/* The drive still works after the error. */
	r = hdi_bdev_read(&a->bdev, 0, buf, 512);
	if (r < 0)
		fail("read after a drive error", r);
	k_logf("HDI-ATA: errors ok\n");
}

/* A controller that never leaves BSY: ports 0x1E8/0x3EE (a tertiary bus
 * QEMU does not have) read 0xFF. The wait must give up, not hang. */
static void timeout(const struct k_ata *model)
{
	static struct k_ata ghost;
	int r;
	ghost = *model;
	ghost.bdev.ctx = &ghost;
	ghost.io = 0x1e8;
	ghost.ctl = 0x3ee;
	ghost.spin = 100000;
	r = hdi_bdev_read(&ghost.bdev, 0, buf, 512);
	if (r != HDI_ETIMEDOUT)
		fail("stuck BSY not reported as a timeout", r ? r : HDI_EINVAL);
	k_logf("HDI-ATA: timeout ok\n");
}

static void pass_after_trap(void)
{
	k_logf("HDI-ATA: PASS\n");
	k_qemu_exit(EXIT_PASS);
}

void k_kmain(void);
void k_kmain(void)
{
	struct k_ata *small = &disks[1][0], *big = &disks[1][1];
	uint64_t b28 = 1ull << 28;
	k_serial_init();
	k_idt_init();
	probe_all();
	read_hash(small, "1.0", 0, 300);            /* 2 commands, odd tail block */
	write_pattern(small, "1.0", 1000, 300);
	write_pattern(small, "1.0", small->sectors - 5, 5);
	if (!big->lba48 || big->sectors <= b28 + 16)
		fail("secondary slave should be an LBA48 disk over 128 GiB", HDI_EINVAL);
	read_hash(big, "1.1", b28 - 8, 16);         /* straddles LBA28's end */
	read_hash(big, "1.1", big->sectors - 3, 3);
	write_pattern(big, "1.1", b28 - 6, 12);
	write_pattern(big, "1.1", big->sectors - 2, 2);
	write_pattern(big, "1.1", 7, 1);
	errors(small);
	timeout(small);
	/* Last, a CPU fault must come out as a panic line, not a reset. */
	k_panic_prefix = "HDI-ATA: trap: ";
	k_halt_hook = pass_after_trap;
	__asm__ volatile("ud2");
	fail("ud2 did not trap", HDI_EINVAL);
}
