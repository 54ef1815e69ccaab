/* host_test/unit/t_bdev.c: byte-granular access over granular devices. */
#include "unit.h"
#include "dev_ram.h"
#include <string.h>

TEST(bdev_pread_pwrite_unaligned_512)
{
	struct ram_dev rd;
	unsigned char bounce[512], buf[1500], back[1500];
	size_t i;
	CHECK_EQ(ram_dev_init(&rd, 8192, 0, 512, 0), HDI_OK);
	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 7 + 1);
	CHECK_EQ(hdi_bdev_pwrite(&rd.bdev, 300, buf, sizeof buf, bounce), HDI_OK);
	CHECK_EQ(hdi_bdev_pread(&rd.bdev, 300, back, sizeof back, bounce), HDI_OK);
	CHECK(memcmp(buf, back, sizeof buf) == 0);
	CHECK(rd.data[299] == 0 && rd.data[1800] == 0);
	CHECK_EQ(hdi_bdev_read(&rd.bdev, 1, back, 512), HDI_EINVAL);
	ram_dev_free(&rd);
}

TEST(bdev_fault_passes_up_unchanged)
{
	struct ram_dev rd;
	unsigned char bounce[512], buf[16];
	CHECK_EQ(ram_dev_init(&rd, 4096, 0, 512, 0), HDI_OK);
	rd.fail_read_at = 1;
	rd.fail_code = HDI_ETIMEDOUT;
	CHECK_EQ(hdi_bdev_pread(&rd.bdev, 3, buf, sizeof buf, bounce), HDI_ETIMEDOUT);
	ram_dev_free(&rd);
}

/* A table of an unknown version is never called through. */
TEST(bdev_unknown_ops_version_refused)
{
	struct ram_dev rd;
	struct hdi_bdev_ops ops;
	struct hdi_bdev d;
	unsigned char buf[512] = { 0 };
	uint64_t sz = 0;
	unsigned v[] = { 0, HDI_BDEV_OPS_VERSION + 1 }, i;
	CHECK_EQ(ram_dev_init(&rd, 4096, 8192, 512, 0), HDI_OK);
	for (i = 0; i < 2; i++) {
		ops = *rd.bdev.ops;
		ops.version = v[i];
		d = rd.bdev;
		d.ops = &ops;
		CHECK_EQ(hdi_bdev_read(&d, 0, buf, 512), HDI_EUNSUPP);
		CHECK_EQ(hdi_bdev_write(&d, 0, buf, 512), HDI_EUNSUPP);
		CHECK_EQ(hdi_bdev_flush(&d), HDI_EUNSUPP);
		CHECK_EQ(hdi_bdev_size(&d, &sz), HDI_EUNSUPP);
		CHECK_EQ(hdi_bdev_ensure_size(&d, 8192), HDI_EUNSUPP);
	}
	CHECK_EQ(rd.nreads + rd.nwrites + rd.nflushes, 0);
	CHECK_EQ(rd.size, 4096);
	ram_dev_free(&rd);
}
