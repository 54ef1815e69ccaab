/* tools/cmd_commit.c: edqcow2 commit [-d] [-b BASE], as qemu-img commit:
 * finds the base in the backing chain, opens it read-write, grows it to
 * the disk's size when smaller, and lets the core copy and empty. */
#define _DEFAULT_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "ed.h"

static const char *usage =
	"usage: edqcow2 IMAGE commit [-d] [-b BASE] [-q]   (qemu-img commit [-d] [-b BASE] IMAGE)\n"
	"  Writes what IMAGE allocates into its backing file, then empties IMAGE.\n"
	"  -d     keep IMAGE's contents (do not empty it)\n"
	"  -b     commit down to BASE, deeper in the chain (implies -d, as qemu-img:\n"
	"         the images in between no longer read right)\n";

static int same_path(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
#ifdef _WIN32
	if (_fullpath(ra, a, PATH_MAX) && _fullpath(rb, b, PATH_MAX))
		return !strcmp(ra, rb);
#else
	if (realpath(a, ra) && realpath(b, rb))
		return !strcmp(ra, rb);
#endif
	return !strcmp(a, b);
}

/* Depth of base in the chain (1: the backing file), 0 if absent. */
static unsigned base_depth(struct ed_image *im, const char *base)
{
	struct file_dev *f;
	hdi_qcow2_t *q;
	const char *p;
	unsigned d;
	for (d = 1; ed_chain_get(im, d, &p, &f, &q) == 0; d++)
		if (!base || same_path(p, base))
			return d;
	return 0;
}

/* Which depth to commit to; prints the error. */
static int find_base(const char *image, const char *base, unsigned *depth)
{
	struct ed_image im;
	struct hdi_qcow2_info_result in;
	int r;
	if (ed_open(&im, image, 0))
		return 1;
	r = im.is_qcow2 ? hdi_qcow2_info(&im.q, &in) : HDI_OK;
	*depth = r == HDI_OK && im.is_qcow2 && in.has_backing ? base_depth(&im, base) : 0;
	ed_close(&im);
	if (r < 0)
		return ed_err(image, "commit: %s", hdi_strerror(r));
	if (!im.is_qcow2 || !in.has_backing)
		return ed_err(image, "commit: the image has no backing file");
	if (!*depth)
		return ed_err(image, "commit: '%s' is not in the image's backing chain", base);
	return 0;
}

static int grow_base(struct ed_image *im, unsigned depth, struct hdi_bdev **dev)
{
	struct file_dev *f;
	hdi_qcow2_t *bq;
	const char *p;
	uint64_t size = ed_disk_size(im), bsize = 0;
	int r;
	if (ed_chain_get(im, depth, &p, &f, &bq))
		return HDI_EINVAL;
	*dev = bq ? hdi_qcow2_bdev(bq) : &f->bdev;
	r = hdi_bdev_size(*dev, &bsize);
	if (r == HDI_OK && bsize < size)
		r = bq ? hdi_qcow2_resize(bq, size, 0) : hdi_bdev_ensure_size(&f->bdev, size);
	if (r < 0)
		ed_err(p, "commit: cannot grow the base: %s", hdi_strerror(r));
	return r;
}

int ed_cmd_commit(const char *image, int argc, char **argv)
{
	struct ed_image im;
	struct hdi_bdev *dev;
	const char *base = NULL;
	unsigned depth;
	int keep = 0, quiet = 0, i, r;
	if (ed_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d"))
			keep = 1;
		else if (!strcmp(argv[i], "-q"))
			quiet = 1;
		else if (!strcmp(argv[i], "-b") && i + 1 < argc)
			base = argv[++i];
		else
			return ed_err(image, "commit: unexpected argument '%s' (try --help)", argv[i]);
	}
	if (find_base(image, base, &depth))
		return 1;
	keep |= base != NULL;
	if (ed_open(&im, image, (keep ? 0 : ED_OPEN_RDWR) | ED_OPEN_RW_DEPTH(depth)))
		return 1;
	r = grow_base(&im, depth, &dev);
	if (r == HDI_OK) {
		r = hdi_qcow2_commit(&im.q, dev, depth, keep ? HDI_QCOW2_COMMIT_KEEP : 0);
		if (r < 0)
			ed_err_code(&im, "commit", r);
	}
	if (ed_close(&im) && r == HDI_OK)
		r = HDI_EIO;
	if (r == HDI_OK && !quiet)
		printf("Image committed.\n");
	return r < 0 ? 1 : 0;
}
