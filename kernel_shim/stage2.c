/* kernel_shim/stage2.c: a bootloader-sized example. Linked with the core
 * built HDI_CONFIG_READONLY (kernel.mk), it does what a stage 2 does: find
 * the payload on a qcow2 data disk (IDE primary slave; partition 1 of the
 * virtual disk, zlib-compressed clusters allowed), read it whole, and
 * report its CRC-32 on COM1:
 *   HDI-STAGE2: payload <bytes> crc32 <8 hex digits>
 *   HDI-STAGE2: PASS                  (or: HDI-STAGE2: FAIL <why>)
 * then leaves QEMU through isa-debug-exit (status 1 after PASS, 3 after
 * FAIL). The payload starts with a header: "HDIP" and its length in
 * bytes, little-endian, both 4 bytes; the CRC covers what follows. */
#include "ata.h"
#include "shim.h"
#include "hdi/crc32.h"
#include "hdi/mbr.h"
#include "hdi/qcow2.h"

#define EXIT_PASS 0
#define EXIT_FAIL 1
#define CHUNK     (64u * 1024u)          /* I/O buffer */
#define MAX_LOAD  (16u * 1024u * 1024u)  /* what a stage 2 would load */

static struct k_ata data;
static hdi_qcow2_t q;
/* Compressed clusters up to 64 KiB (qemu-img's default). */
#define WORKSPACE HDI_QCOW2_WORKSPACE_COMPRESSED(64u * 1024u)
static uint64_t workspace[WORKSPACE / 8];
static uint8_t iobuf[CHUNK];
static struct hdi_mbr mbr;
static uint8_t mbrbuf[HDI_MBR_BUF_SIZE(512)];
static struct hdi_bdev_view part;
static uint8_t bounce[512];            /* the virtual disk's granule */

__attribute__((noreturn)) static void fail(const char *step, int err)
{
	const char *more = hdi_qcow2_errmsg(&q);
	k_logf("HDI-STAGE2: FAIL %s: %s%s%s%s\n", step, hdi_strerror(err),
		 more[0] ? " (" : "", more, more[0] ? ")" : "");
	k_qemu_exit(EXIT_FAIL);
}

static void halt_fail(void)
{
	k_qemu_exit(EXIT_FAIL);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void load(const struct hdi_bdev *d)
{
	uint32_t len, off, crc = 0;
	uint64_t size;
	int r = hdi_bdev_size(d, &size);
	if (r == HDI_OK)
		r = hdi_bdev_pread(d, 0, iobuf, 8, bounce);
	if (r < 0)
		fail("payload header", r);
	len = le32(iobuf + 4);
	if (memcmp(iobuf, "HDIP", 4) || len > MAX_LOAD || len > size - 8u)
		fail("payload header", HDI_ECORRUPT);
	for (off = 0; off < len; off += CHUNK) {
		uint32_t n = len - off < CHUNK ? len - off : CHUNK;
		r = hdi_bdev_pread(d, 8u + off, iobuf, n, bounce);
		if (r < 0)
			fail("payload", r);
		crc = hdi_crc32(crc, iobuf, n);
	}
	k_logf("HDI-STAGE2: payload %u crc32 %08x\n", (unsigned)len,
		 (unsigned)crc);
}

void k_kmain(void);
void k_kmain(void)
{
	struct hdi_qcow2_opts o = { 0 };
	int r;
	k_serial_init();
	k_panic_prefix = "HDI-STAGE2: FAIL ";
	k_halt_hook = halt_fail;
	k_idt_init();
	r = k_ata_open(&data, K_ATA_PRIMARY, K_ATA_SLAVE);
	if (r < 0)
		fail("data disk (IDE primary slave)", r);
	o.workspace = workspace;
	o.workspace_size = sizeof workspace;
	r = hdi_qcow2_open_ro(&q, &data.bdev, &o);
	if (r < 0)
		fail("open", r);
	r = hdi_mbr_read(&mbr, hdi_qcow2_bdev(&q), mbrbuf, sizeof mbrbuf);
	if (r < 0)
		fail("partition table", r);
	r = hdi_mbr_partdev_init(&part, &mbr, 1);
	if (r < 0)
		fail("partition 1", r);
	load(&part.bdev);
	k_logf("HDI-STAGE2: PASS\n");
	k_qemu_exit(EXIT_PASS);
}
