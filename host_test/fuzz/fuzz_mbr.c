/* host_test/fuzz/fuzz_mbr.c: libFuzzer target: the input is the start of a
 * disk (padded with zeros to at least 1 MiB): read the MBR and its EBR
 * chain, validate, look up every partition, find free space, and write an
 * edit back when the table is valid, which must then read back valid. */
#include "fuzz_common.h"
#include "hdi/mbr.h"

#define DISK_MIN (1u << 20)

static void walk(const struct hdi_mbr *m)
{
	unsigned n, count = hdi_mbr_count(m);
	uint64_t off, len;
	FZ_ASSERT(count <= HDI_MBR_PRIMARIES + HDI_MBR_MAX_LOGICAL);
	for (n = 0; n <= count + 1; n++) {
		const struct hdi_mbr_part *p = hdi_mbr_get(m, n);
		struct hdi_bdev_view pd;
		if (!p)
			continue;
		FZ_ASSERT(n >= 1 && n <= count);
		if (hdi_mbr_range(m, n, &off, &len) == HDI_OK) {
			FZ_ASSERT(!(off & 511) && !(len & 511));
			if (hdi_mbr_partdev_init(&pd, m, n) == HDI_OK && len) {
				unsigned char b[512];
				int r = hdi_bdev_read(&pd.bdev, 0, b, 512);
				FZ_ASSERT(r <= 0);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hdi_mbr m, m2;
	static unsigned char buf[HDI_MBR_BUF_MAX];
	struct ram_dev rd;
	struct hdi_mbr_problem why = { 0, 0, 0 };
	uint64_t disk = size < DISK_MIN ? DISK_MIN : (size + 511) & ~(uint64_t)511;
	uint32_t count, ebr, start;
	int r, valid;

	if (ram_dev_init(&rd, disk, 0, 512, 0))
		return 0;
	memcpy(rd.data, data, size);
	r = hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf);
	FZ_ASSERT(r <= 0);
	if (r == HDI_OK) {
		walk(&m);
		valid = hdi_mbr_validate(&m, &why) == HDI_OK;
		FZ_ASSERT(hdi_mbr_problem_str(why.code) != NULL);
		count = 0;
		r = hdi_mbr_find_space(&m, HDI_MBR_PRIMARY, HDI_MBR_ALIGN_CYLINDER, 0,
				       &count, &ebr, &start);
		FZ_ASSERT(r <= 0);
		count = 8;
		r = hdi_mbr_find_space(&m, HDI_MBR_LOGICAL, 8, 0, &count, &ebr, &start);
		FZ_ASSERT(r <= 0);
		if (valid && m.kind == HDI_MBR_DOS) {
			unsigned slot, before = hdi_mbr_count(&m);
			for (slot = 1; slot <= HDI_MBR_PRIMARIES; slot++)
				if (!hdi_mbr_slot_used(&m.p[slot - 1]))
					break;
			count = 16;
			if (slot <= HDI_MBR_PRIMARIES &&
			    hdi_mbr_find_space(&m, HDI_MBR_PRIMARY, 1, 0, &count, &ebr, &start) == HDI_OK &&
			    hdi_mbr_set_primary(&m, slot, start, count, 0x83, false) == HDI_OK &&
			    hdi_mbr_write(&m, &why) == HDI_OK) {
				FZ_ASSERT(hdi_mbr_read(&m2, &rd.bdev, buf, sizeof buf) == HDI_OK);
				FZ_ASSERT(hdi_mbr_validate(&m2, &why) == HDI_OK);
				FZ_ASSERT(hdi_mbr_count(&m2) == before);
				FZ_ASSERT(m2.p[slot - 1].start == start && m2.p[slot - 1].count == count);
			}
		}
	}
	ram_dev_free(&rd);
	return 0;
}
