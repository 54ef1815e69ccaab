/* tools/block_status.c: qemu's block status of a range of an image (what
 * compare -s compares and measure counts): allocated, zero, data, host
 * offset, end of file; ranges cut where qemu's drivers cut them. */
#define _FILE_OFFSET_BITS 64
#include <string.h>
#include "ed_read.h"

void edr_bs_init(struct edr_bs *b, struct ed_image *im)
{
	struct hdi_qcow2_info_result in;
	unsigned eb;
	b->im = im;
	memset(b->prealloc, -1, sizeof b->prealloc);
	b->l2_reach = UINT64_MAX;
	if (!im->is_qcow2 || hdi_qcow2_info(&im->q, &in) < 0)
		return;
	eb = in.incompatible & HDI_QCOW2_INCOMPAT_EXTL2 ? 4 : 3;
	b->l2_reach = 1ull << (2 * in.cluster_bits - eb);
}

/* QEMU's qcow2_detect_metadata_preallocation: far more clusters are in
 * use than the host file has blocks. Then QEMU asks the file about holes. */
int edr_detect_prealloc(hdi_qcow2_t *q, struct file_dev *fd)
{
	struct hdi_qcow2_info_result in;
	int64_t real = edr_allocated(fd->f);
	uint64_t cs, rc, n = 0, i, end, thr, real_cl;
	if (real < 0 || hdi_qcow2_info(q, &in) < 0)
		return 0;
	cs = 1ull << in.cluster_bits;
	real_cl = (uint64_t)real / cs;
	thr = real_cl * 10 / 9 > real_cl + 2 ? real_cl * 10 / 9 : real_cl + 2;
	end = (fd->size + cs - 1) / cs;
	for (i = 0; i < end && n <= thr; i++) {
		if (hdi_qcow2_refcount(q, i * cs, &rc) < 0)
			return 0;
		n += rc != 0;
	}
	return n > thr;
}

/* Data with a host offset in a raw backing file, or in a qcow2 file
 * detected as metadata-preallocated: the file's holes read as zeros, as
 * qemu asks the file about them. */
static void file_holes(struct edr_bs *b, const struct hdi_qcow2_extent *x,
		       unsigned *st, uint64_t *len)
{
	const char *path;
	struct file_dev *fd;
	hdi_qcow2_t *q;
	uint64_t n;
	int data;
	if (ed_chain_get(b->im, x->depth, &path, &fd, &q) < 0)
		return;
	if (q && x->depth <= HDI_QCOW2_MAX_CHAIN) {
		if (b->prealloc[x->depth] < 0)
			b->prealloc[x->depth] = (signed char)edr_detect_prealloc(q, fd);
		if (!b->prealloc[x->depth])
			return;
	} else if (q) {
		return;
	}
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
int edr_block_status(struct edr_bs *b, uint64_t off, uint64_t max,
		     unsigned *st, uint64_t *len)
{
	struct ed_image *im = b->im;
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
		uint64_t reach = b->l2_reach - off % b->l2_reach;
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
		if ((*st & EDR_ST_DATA) && (x.flags & HDI_QCOW2_MAP_OFFSET) &&
		    !(x.flags & HDI_QCOW2_MAP_COMPRESSED))
			file_holes(b, &x, st, len);
	}
	if (off + *len == disk)
		*st |= EDR_ST_EOF;
	return 0;
}

