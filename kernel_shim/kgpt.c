/* kernel_shim/kgpt.c: a test kernel for GPT in the core, booted by
 * host_test/interop/51_gpt_kernel.sh. It reads the GPT of IDE primary
 * slave (a qcow2 image parsed in the kernel, or a raw disk), prints every
 * partition and a CRC-32 of the first 64 KiB read through the partition's
 * own device window, on COM1: "HDI-GPT: ..." lines, last PASS or FAIL. */
#include "ata.h"
#include "shim.h"
#include "hdi/crc32.h"
#include "hdi/gpt.h"
#include "hdi/qcow2.h"

#define EXIT_PASS 0   /* QEMU exit status 1 */
#define EXIT_FAIL 1   /* QEMU exit status 3 */
#define MAXP      128u
#define PROBE     (64u * 1024u)

static struct k_ata disk;
static hdi_qcow2_t q;
static uint64_t workspace[(HDI_QCOW2_WORKSPACE_MIN + 256u * 1024u) / 8];
static uint8_t gbuf[HDI_GPT_BUF_SIZE(512, 512)];
static struct hdi_gpt_part parts[MAXP];
static uint8_t probe[PROBE];

__attribute__((noreturn)) static void fail(const char *what, int err)
{
	k_logf("HDI-GPT: FAIL %s: %s\n", what, hdi_strerror(err));
	k_qemu_exit(EXIT_FAIL);
}

/* The disk's data: the qcow2 virtual disk when it is one, else itself. */
static const struct hdi_bdev *open_disk(void)
{
	struct hdi_qcow2_opts o = { 0 };
	uint8_t magic[512];
	int r = k_ata_open(&disk, K_ATA_PRIMARY, K_ATA_SLAVE);
	if (r < 0)
		fail("data disk (IDE primary slave)", r);
	if ((r = hdi_bdev_read(&disk.bdev, 0, magic, sizeof magic)) < 0)
		fail("read", r);
	if (!(magic[0] == 'Q' && magic[1] == 'F' && magic[2] == 'I' && magic[3] == 0xFB)) {
		k_logf("HDI-GPT: raw\n");
		return &disk.bdev;
	}
	o.workspace = workspace;
	o.workspace_size = sizeof workspace;
	if ((r = hdi_qcow2_open(&q, &disk.bdev, &o)) < 0)
		fail("qcow2 open", r);
	k_logf("HDI-GPT: qcow2\n");
	return hdi_qcow2_bdev(&q);
}

static void list(const struct hdi_gpt *g)
{
	char id[37], ty[37], name[HDI_GPT_NAME_UTF8_MAX];
	uint32_t i;
	hdi_guid_to_str(&g->disk_guid, id);
	k_logf("HDI-GPT: disk %s first %llu last %llu entries %u status %x\n", id,
	       (unsigned long long)g->first_usable,
	       (unsigned long long)g->last_usable, (unsigned)g->nentries,
	       (unsigned)g->status);
	for (i = 0; i < g->nparts; i++) {
		const struct hdi_gpt_part *p = &g->parts[i];
		struct hdi_bdev_view v;
		uint64_t size;
		uint32_t n;
		int r;
		hdi_guid_to_str(&p->type, ty);
		hdi_guid_to_str(&p->uuid, id);
		hdi_gpt_name_to_utf8(p->name, name);
		k_logf("HDI-GPT: part %u start %llu size %llu type %s uuid %s "
		       "attrs %llx name \"%s\"\n", (unsigned)(p->slot + 1),
		       (unsigned long long)p->first,
		       (unsigned long long)(p->last - p->first + 1), ty, id,
		       (unsigned long long)p->attrs, name);
		/* The partition as a device of its own. */
		if ((r = hdi_gpt_partdev_init(&v, g, p->slot + 1)) < 0)
			fail("partition window", r);
		if ((r = hdi_bdev_size(&v.bdev, &size)) < 0)
			fail("partition size", r);
		n = size < PROBE ? (uint32_t)size : PROBE;
		if ((r = hdi_bdev_read(&v.bdev, 0, probe, n)) < 0)
			fail("partition read", r);
		k_logf("HDI-GPT: crc %u %u %08x\n", (unsigned)(p->slot + 1),
		       (unsigned)n, (unsigned)hdi_crc32(0, probe, n));
	}
}

static void halt_fail(void)
{
	k_qemu_exit(EXIT_FAIL);
}

void k_kmain(void);
void k_kmain(void)
{
	static struct hdi_gpt g;
	const struct hdi_bdev *d;
	int r;
	k_serial_init();
	k_panic_prefix = "HDI-GPT: FAIL ";
	k_halt_hook = halt_fail;    /* a panic or CPU fault ends the run */
	k_idt_init();
	d = open_disk();
	r = hdi_gpt_read(&g, d, 512, gbuf, sizeof gbuf, parts, MAXP);
	if (r < 0)
		fail("reading the GPT", r);
	if (g.kind != HDI_GPT_VALID)
		fail("no GPT on the disk", HDI_ENOENT);
	list(&g);
	k_logf("HDI-GPT: PASS\n");
	k_qemu_exit(EXIT_PASS);
}
