/* tools/block_status.c: qemu's block status of a range of an image (what
 * compare -s compares and measure counts): allocated, zero, data, host
 * offset, end of file; ranges cut where qemu's drivers cut them. */
#define _FILE_OFFSET_BITS 64
#include "ed_read.h"

uint64_t edr_l2_reach(struct ed_image *im)
{
	struct hdi_qcow2_info in;
	unsigned eb;
	if (!im->is_qcow2 || hdi_qcow2_info(&im->q, &in) < 0)
		return UINT64_MAX;
	eb = in.incompatible & HDI_QCOW2_INCOMPAT_EXTL2 ? 4 : 3;
	return 1ull << (2 * in.cluster_bits - eb);
}

/* Data from a raw backing file: its holes read as zeros, as qemu's
 * file driver reports them. */
static void raw_backing_holes(struct ed_image *im,
			      const struct hdi_qcow2_extent *x,
			      unsigned *st, uint64_t *len)
{
	const char *path;
	struct file_dev *fd;
	hdi_qcow2_t *q;
	uint64_t n;
	int data;
	if (ed_chain_get(im, x->depth, &path, &fd, &q) < 0 || q)
		return;
	if (x->host_offset >= fd->size) {
		*st = (*st & ~EDR_ST_DATA) | EDR_ST_ZERO;
		return;
	}
	edr_file_run(fd->f, fd->size, x->host_offset, *len, &data, &n);
	*len = n;
	if (!data)
		*st = (*st & ~EDR_ST_DATA) | EDR_ST_ZERO;
}

/* Status at off and how far it lasts (at most max). */
int edr_block_status(struct ed_image *im, uint64_t l2_reach, uint64_t off,
		     uint64_t max, unsigned *st, uint64_t *len)
{
	struct hdi_qcow2_extent x;
	int data, r;
	uint64_t disk = ed_disk_size(im);
	*len = max;
	if (off >= disk) {          /* the sector tail of an odd-sized raw file */
		*st = EDR_ST_ALLOC | EDR_ST_ZERO;
		return 0;
	}
	if (max > disk - off)
		*len = max = disk - off;
	if (!im->is_qcow2) {
		edr_file_run(im->file.f, im->file.size, off, max, &data, len);
		*st = EDR_ST_ALLOC | EDR_ST_OFFSET | (data ? EDR_ST_DATA : EDR_ST_ZERO);
	} else {
		uint64_t reach = l2_reach - off % l2_reach;
		r = hdi_qcow2_map(&im->q, off, &x);
		if (r < 0)
			return r;
		if (!x.length)
			return HDI_ECORRUPT;
		if (x.length < *len)
			*len = x.length;
		if (reach < *len)
			*len = reach;
		*st = (x.flags & HDI_QCOW2_MAP_ALLOCATED ? EDR_ST_ALLOC : 0) |
		      (x.flags & HDI_QCOW2_MAP_OFFSET ? EDR_ST_OFFSET : 0) |
		      (x.flags & HDI_QCOW2_MAP_ZERO ? EDR_ST_ZERO :
		       x.flags & HDI_QCOW2_MAP_DATA ? EDR_ST_DATA : 0);
		if (!(*st & (EDR_ST_ZERO | EDR_ST_DATA)))
			*st |= EDR_ST_ZERO;     /* unallocated down the whole chain */
		if (x.depth && (*st & EDR_ST_DATA) && (x.flags & HDI_QCOW2_MAP_OFFSET))
			raw_backing_holes(im, &x, st, len);
	}
	if (off + *len == disk)
		*st |= EDR_ST_EOF;
	return 0;
}

