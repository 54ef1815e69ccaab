/* host_test/fuzz/fuzz_qcow2.c: libFuzzer target: the input is a qcow2 file;
 * open, info, map, read, snapshots (list, select, read), with a full and a
 * minimal workspace. Any crash, sanitizer report, write or broken map/read
 * contract is a finding. */
#include "fuzz_common.h"

static uint8_t rbuf[65536 + 4096];

static void read_checked(hdi_qcow2_t *q, uint64_t vsize, uint64_t off,
			 size_t len, int must_be_zero)
{
	int r;
	size_t i;
	if (off >= vsize)
		return;
	if (len > vsize - off)
		len = (size_t)(vsize - off);
	if (len > sizeof rbuf)
		len = sizeof rbuf;
	r = hdi_qcow2_read(q, off, rbuf, len);
	FZ_ASSERT(r <= 0);
	if (r == HDI_OK && must_be_zero)
		for (i = 0; i < len; i++)
			FZ_ASSERT(rbuf[i] == 0);
}

/* Walks the map like qemu-img map and reads a little of every extent. */
static void walk(hdi_qcow2_t *q, uint64_t vsize, unsigned max_extents)
{
	struct hdi_qcow2_extent e;
	uint64_t off = 0;
	unsigned n;
	for (n = 0; n < max_extents && off < vsize; n++) {
		int r = hdi_qcow2_map(q, off, &e);
		FZ_ASSERT(r <= 0);
		if (r)
			break;
		FZ_ASSERT(e.start == off);
		FZ_ASSERT(e.length > 0 && e.length <= vsize - off);
		read_checked(q, vsize, off, e.length < 4096 ? (size_t)e.length : 4096,
			     (e.flags & HDI_QCOW2_MAP_ZERO) != 0);
		if (e.length > 4096)
			read_checked(q, vsize, off + e.length - 700, 700,
				     (e.flags & HDI_QCOW2_MAP_ZERO) != 0);
		off += e.length;
	}
}

static void reads(hdi_qcow2_t *q, uint64_t vsize)
{
	read_checked(q, vsize, 0, 65536, 0);
	read_checked(q, vsize, 511, 1027, 0);
	if (vsize > 70000)
		read_checked(q, vsize, vsize - 70000, 70000, 0);
	/* past the end: an error, never a crash */
	FZ_ASSERT(hdi_qcow2_read(q, vsize, rbuf, 1) != HDI_OK);
	FZ_ASSERT(hdi_qcow2_read(q, UINT64_MAX - 10, rbuf, 100) != HDI_OK);
}

static void snapshots(hdi_qcow2_t *q, uint32_t nb)
{
	static struct hdi_qcow2_snapshot sn;
	uint32_t i;
	int r;
	for (i = 0; i < nb && i < 64; i++) {
		r = hdi_qcow2_snapshot_get(q, i, &sn);
		FZ_ASSERT(r <= 0);
		if (r)
			continue;
		FZ_ASSERT(memchr(sn.id, 0, sizeof sn.id) && memchr(sn.name, 0, sizeof sn.name));
		if (i < 4 && hdi_qcow2_snapshot_select(q, i) == HDI_OK) {
			/* the view's size, as qemu-img convert -l sees it (not
			 * necessarily the snapshot's recorded disk size) */
			uint64_t size = 0;
			FZ_ASSERT(hdi_bdev_size(hdi_qcow2_bdev(q), &size) == HDI_OK);
			walk(q, size, 16);
			read_checked(q, size, 0, 8192, 0);
			FZ_ASSERT(hdi_qcow2_snapshot_select(q, UINT32_MAX) == HDI_OK);
		}
	}
	FZ_ASSERT(hdi_qcow2_snapshot_get(q, nb, &sn) != HDI_OK);
	r = hdi_qcow2_snapshot_find(q, "1");
	FZ_ASSERT(r < 0 || (uint32_t)r < nb);
	r = hdi_qcow2_snapshot_find(q, "snap");
	FZ_ASSERT(r < 0 || (uint32_t)r < nb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_chain c;
	static struct hdi_qcow2_info_result info;
	struct hdi_bdev *disk;

	if (fz_open(&c, data, size, FZ_WS_BIG) == HDI_OK) {
		hdi_qcow2_t *q = &c.q[0];
		int r = hdi_qcow2_info(q, &info);
		FZ_ASSERT(r <= 0);
		if (r == HDI_OK) {
			FZ_ASSERT(info.version == 2 || info.version == 3);
			FZ_ASSERT(info.cluster_bits >= 9 && info.cluster_bits <= 21);
			FZ_ASSERT(memchr(info.backing_file, 0, sizeof info.backing_file));
			disk = hdi_qcow2_bdev(q);
			FZ_ASSERT(disk != NULL);
			walk(q, info.virtual_size, 64);
			reads(q, info.virtual_size);
			snapshots(q, info.nb_snapshots);
			reads(q, info.virtual_size);    /* back on the active disk */
		}
	}
	fz_close(&c);
	/* The smallest workspace must work too, or fail cleanly. */
	if (fz_open(&c, data, size, FZ_WS_MIN) == HDI_OK &&
	    hdi_qcow2_info(&c.q[0], &info) == HDI_OK) {
		walk(&c.q[0], info.virtual_size, 16);
		read_checked(&c.q[0], info.virtual_size, 0, 65536, 0);
	}
	fz_close(&c);
	return 0;
}
