/* host_test/fuzz/fuzz_gpt.c: libFuzzer target: the input is a whole disk
 * (padded with zeros to at least 64 KiB): read its GPT as 512-byte and,
 * when the size allows, as 4096-byte sectors; look up every partition and
 * its window, validate, find space, and when the table is valid write an
 * edit back, which must then read back valid from the primary. */
#include "fuzz_common.h"
#include "hdi/gpt.h"

#define DISK_MIN (64u << 10)
#define MAXP 64u

static int guid_src(void *ctx, struct hdi_guid *g)
{
	unsigned *n = ctx, i;
	(*n)++;
	for (i = 0; i < 16; i++)
		g->b[i] = (uint8_t)(*n + i * 13u);
	return HDI_OK;
}

static void walk(const struct hdi_gpt *g)
{
	uint32_t i;
	FZ_ASSERT(g->nparts <= MAXP);
	for (i = 0; i < g->nparts; i++) {
		const struct hdi_gpt_part *p = &g->parts[i];
		struct hdi_bdev_view v;
		uint64_t off, len;
		char s[37], name[HDI_GPT_NAME_UTF8_MAX];
		FZ_ASSERT(i == 0 || p->slot > g->parts[i - 1].slot);
		FZ_ASSERT(hdi_gpt_find(g, p->slot + 1u) == p);
		hdi_guid_to_str(&p->type, s);
		hdi_gpt_name_to_utf8(p->name, name);
		if (hdi_gpt_range(g, p->slot + 1u, &off, &len) == HDI_OK &&
		    hdi_gpt_partdev_init(&v, g, p->slot + 1u) == HDI_OK) {
			unsigned char b[512];
			FZ_ASSERT(off + len <= g->disk_sectors * g->sector);
			FZ_ASSERT(hdi_bdev_read(&v.bdev, 0, b, 512) <= 0);
		}
	}
}

static void one(struct ram_dev *rd, uint32_t sector)
{
	static struct hdi_gpt_part parts[MAXP], parts2[MAXP];
	static unsigned char buf[HDI_GPT_BUF_MAX];
	static const struct hdi_guid lin = { { 0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84,
		0x72, 0x47, 0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4 } };
	struct hdi_gpt g, g2;
	struct hdi_gpt_problem why = { 0, 0, 0 };
	uint64_t count, start;
	unsigned ctr = 0;
	int r = hdi_gpt_read(&g, &rd->bdev, sector, buf, sizeof buf, parts, MAXP);
	FZ_ASSERT(r <= 0);
	if (r != HDI_OK || g.kind != HDI_GPT_VALID)
		return;
	walk(&g);
	FZ_ASSERT(hdi_gpt_problem_str(why.code) != NULL);
	count = 0;
	r = hdi_gpt_find_space(&g, 2048, 0, &count, &start);
	FZ_ASSERT(r <= 0);
	count = 1;
	if (hdi_gpt_find_space(&g, 1, 0, &count, &start) == HDI_OK) {
		FZ_ASSERT(start >= g.first_usable && start <= g.last_usable);
		g.guid_fn = guid_src;
		g.guid_ctx = &ctr;
		if (hdi_gpt_validate(&g, &why) == HDI_OK &&
		    hdi_gpt_add(&g, 0, start, start, &lin, NULL) > 0 &&
		    hdi_gpt_write(&g, &why) == HDI_OK) {
			r = hdi_gpt_read(&g2, &rd->bdev, sector, buf, sizeof buf,
					 parts2, MAXP);
			FZ_ASSERT(r == HDI_OK && g2.kind == HDI_GPT_VALID);
			FZ_ASSERT(!(g2.status & HDI_GPT_S_USED_BACKUP));
			FZ_ASSERT(g2.nparts == g.nparts);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ram_dev rd;
	uint64_t disk = size < DISK_MIN ? DISK_MIN : (size + 4095) & ~(uint64_t)4095;
	uint32_t sector;
	for (sector = 512; sector <= 4096; sector *= 8) {
		if (ram_dev_init(&rd, disk, 0, size & 1 ? 4096 : 512, 0))
			return 0;
		memcpy(rd.data, data, size);
		one(&rd, sector);
		ram_dev_free(&rd);
	}
	return 0;
}
