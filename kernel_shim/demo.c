/* kernel_shim/demo.c: the demo kernel. It runs the library on the qcow2
 * bytes of IDE primary slave and reports on COM1 in the fixed protocol of
 * issue 5 ("HDI-DEMO: ..." lines), then leaves QEMU through isa-debug-exit:
 * exit status 1 after PASS, 3 after FAIL. */
#include <stdbool.h>
#include "ata.h"
#include "shim.h"
#include "hdi/crc32.h"
#include "hdi/mbr.h"
#include "hdi/qcow2.h"

#define EXIT_PASS 0
#define EXIT_FAIL 1

#define MIB        (1024u * 1024u)
#define CRC_LEN    MIB            /* crc32 of [0, 1 MiB) */
#define PAT_OFF    (4u * MIB)     /* pattern written to [4 MiB, 5 MiB) */
#define PAT_LEN    MIB
#define PART_START 2048u          /* the new table's one partition */
#define PART_SIZE  4096u
#define PART_TYPE  0x83u

#define CHUNK      (64u * 1024u)  /* I/O buffer: a power of two <= 1 MiB */

static struct k_ata data;
static hdi_qcow2_t q;
/* Enough to read compressed clusters of any size qemu-img makes (2 MiB),
 * and the rest makes bigger table caches. .bss is at 1 MiB (kernel.ld). */
#define WORKSPACE (HDI_QCOW2_WORKSPACE_COMPRESSED(2u * MIB) + 256u * 1024u)
static uint64_t workspace[WORKSPACE / 8];
static uint8_t iobuf[CHUNK];
static struct hdi_mbr mbr;
static uint8_t mbrbuf[HDI_MBR_BUF_SIZE(512)];   /* the virtual disk's granule */

__attribute__((noreturn)) static void fail(const char *step, int err)
{
	if (err)
		k_logf("HDI-DEMO: FAIL %s: %s\n", step, hdi_strerror(err));
	else
		k_logf("HDI-DEMO: FAIL %s\n", step);
	k_qemu_exit(EXIT_FAIL);
}

/* A qcow2 failure, with the library's note on what it was about. */
__attribute__((noreturn)) static void qfail(const char *step, int err)
{
	const char *more = hdi_qcow2_errmsg(&q);
	if (more && more[0])
		k_logf("HDI-DEMO: FAIL %s: %s (%s)\n", step, hdi_strerror(err),
			 more);
	else
		k_logf("HDI-DEMO: FAIL %s: %s\n", step, hdi_strerror(err));
	k_qemu_exit(EXIT_FAIL);
}

static void halt_fail(void)
{
	k_qemu_exit(EXIT_FAIL);
}

static void open_data(uint64_t *vsize)
{
	struct hdi_qcow2_opts o = { 0 };
	int r = k_ata_open(&data, K_ATA_PRIMARY, K_ATA_SLAVE);
	if (r < 0)
		fail("data disk (IDE primary slave)", r);
	o.flags = HDI_QCOW2_RDWR;
	o.workspace = workspace;
	o.workspace_size = sizeof workspace;
	r = hdi_qcow2_open(&q, &data.bdev, &o);
	if (r < 0)
		qfail("open", r);
	r = hdi_bdev_size(hdi_qcow2_bdev(&q), vsize);
	if (r < 0)
		qfail("size", r);
}

static void crc_first_mib(uint64_t vsize)
{
	uint32_t crc = 0, off;
	if (vsize < CRC_LEN)
		fail("virtual disk smaller than 1 MiB", 0);
	for (off = 0; off < CRC_LEN; off += CHUNK) {
		int r = hdi_qcow2_read(&q, off, iobuf, CHUNK);
		if (r < 0)
			qfail("read", r);
		crc = hdi_crc32(crc, iobuf, CHUNK);
	}
	k_logf("HDI-DEMO: crc32 0 %u %08x\n", CRC_LEN, (unsigned)crc);
}

static void write_pattern(uint64_t vsize)
{
	uint32_t off, i;
	int r;
	if (vsize < PAT_OFF + PAT_LEN)
		fail("virtual disk smaller than 5 MiB", 0);
	for (off = PAT_OFF; off < PAT_OFF + PAT_LEN; off += CHUNK) {
		for (i = 0; i < CHUNK; i++)
			iobuf[i] = (uint8_t)((off + i) >> 9);
		r = hdi_qcow2_write(&q, off, iobuf, CHUNK);
		if (r < 0)
			qfail("write", r);
	}
	r = hdi_qcow2_flush(&q);
	if (r < 0)
		qfail("flush", r);
}

/* A new table through the MBR module, on the qcow2 virtual disk: one
 * primary partition; hdi_mbr_write keeps boot code and signature. */
static void write_table(void)
{
	struct hdi_mbr_problem why = { 0, 0, 0 };
	int r = hdi_mbr_read(&mbr, hdi_qcow2_bdev(&q), mbrbuf, sizeof mbrbuf);
	if (r < 0)
		fail("reading the partition table", r);
	r = hdi_mbr_clear(&mbr);
	if (r == HDI_OK)
		r = hdi_mbr_set_primary(&mbr, 1, PART_START, PART_SIZE, PART_TYPE,
					false);
	if (r < 0)
		fail("editing the partition table", r);
	r = hdi_mbr_write(&mbr, &why);
	if (r == HDI_EINVAL && why.code) {
		k_logf("HDI-DEMO: FAIL partition table refused: %s\n",
			 hdi_mbr_problem_str(why.code));
		k_qemu_exit(EXIT_FAIL);
	}
	if (r < 0)
		qfail("writing the partition table", r);
	r = hdi_qcow2_flush(&q);
	if (r < 0)
		qfail("flush", r);
}

void k_kmain(void);
void k_kmain(void)
{
	uint64_t vsize;
	int r;
	k_serial_init();
	k_panic_prefix = "HDI-DEMO: FAIL ";
	k_halt_hook = halt_fail;      /* a panic, assert or CPU fault ends the run */
	k_idt_init();
	open_data(&vsize);
	k_logf("HDI-DEMO: virtual-size %llu\n", (unsigned long long)vsize);
	crc_first_mib(vsize);
	write_pattern(vsize);
	write_table();
	r = hdi_qcow2_close(&q);
	if (r < 0)
		qfail("close", r);
	k_logf("HDI-DEMO: PASS\n");
	k_qemu_exit(EXIT_PASS);
}
