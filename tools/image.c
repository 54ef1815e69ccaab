/* tools/image.c: opening images for edqcow2: format probe, the backing
 * chain (names resolved relative to the overlay, loops refused), errors. */
#define _FILE_OFFSET_BITS 64
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "ed.h"
#include "ed_compress.h"
#include "path.h"

struct ed_chain {
	struct ed_chain *next;       /* the image this one backs is closed first */
	char *path;                  /* as opened, for loop detection */
	struct file_dev file;
	int is_qcow2;
	hdi_qcow2_t q;
	void *ws;
	struct ed_image *top;
};

int ed_err(const char *image, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "edqcow2: ");
	if (image)
		fprintf(stderr, "%s: ", image);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int ed_err_code(struct ed_image *im, const char *what, int code)
{
	const char *detail = im && im->is_qcow2 ? hdi_qcow2_errmsg(&im->q) : "";
	if (detail && *detail)
		return ed_err(im ? im->path : NULL, "%s: %s: %s", what,
			      hdi_strerror(code), detail);
	return ed_err(im ? im->path : NULL, "%s: %s", what, hdi_strerror(code));
}

int ed_wants_help(int argc, char **argv)
{
	int i;
	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

static int probe_qcow2(struct file_dev *fd)
{
	unsigned char m[4];
	if (fd->size < 4 || hdi_bdev_read(&fd->bdev, 0, m, 4))
		return 0;
	return hdi_qcow2_probe(m, 4);
}

char *ed_resolve(const char *overlay, const char *name)
{
	size_t n = path_beside(NULL, 0, overlay, name, PATH_NATIVE);
	char *p = malloc(n + 1);
	if (p)
		path_beside(p, n + 1, overlay, name, PATH_NATIVE);
	return p;
}

static const char *chain_path(struct ed_image *top, unsigned depth)
{
	struct ed_chain *c = top->chain;
	/* chain is kept newest-first; depth 0 is the top image itself */
	unsigned n = 0, i;
	for (c = top->chain; c; c = c->next)
		n++;
	if (depth == 0)
		return top->path;
	for (c = top->chain, i = n; c && i > depth; c = c->next)
		i--;
	return c ? c->path : top->path;
}

int ed_chain_get(struct ed_image *im, unsigned depth, const char **path,
		 struct file_dev **file, hdi_qcow2_t **q)
{
	struct ed_chain *c;
	unsigned n = 0, i;
	if (depth == 0) {
		*path = im->path;
		*file = &im->file;
		*q = im->is_qcow2 ? &im->q : NULL;
		return 0;
	}
	for (c = im->chain; c; c = c->next)
		n++;
	if (depth > n)
		return -1;
	/* the chain is kept newest (deepest) first */
	for (c = im->chain, i = n; c && i > depth; c = c->next)
		i--;
	*path = c->path;
	*file = &c->file;
	*q = c->is_qcow2 && c->ws ? &c->q : NULL;
	return 0;
}

#ifdef _WIN32
#define realpath(p, r) _fullpath((r), (p), PATH_MAX)
#endif

static int same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	if (realpath(a, ra) && realpath(b, rb))
		return !strcmp(ra, rb);
	return !strcmp(a, b);
}

static int open_backing(void *ctx, const char *name, const char *fmt,
			unsigned depth, struct hdi_bdev **out)
{
	struct ed_image *top = ctx;
	struct ed_chain *c, *it;
	struct hdi_qcow2_opts o;
	int r;
	if (depth + 1 >= HDI_QCOW2_MAX_CHAIN)
		return HDI_ELOOP;
	c = calloc(1, sizeof(*c));
	if (!c)
		return HDI_ENOMEM;
	c->path = ed_resolve(chain_path(top, depth), name);
	if (!c->path) {
		free(c);
		return HDI_ENOMEM;
	}
	if (same_file(c->path, top->path))
		r = HDI_ELOOP;
	else
		r = HDI_OK;
	for (it = top->chain; it && !r; it = it->next)
		if (same_file(c->path, it->path))
			r = HDI_ELOOP;
	if (!r)
		r = file_dev_open(&c->file, c->path,
				  top->rw_depth == depth + 1 ? "r+b" : "rb", 0);
	if (r) {
		if (r != HDI_ELOOP)
			ed_err(top->path, "cannot open backing file '%s': %s",
			       c->path, r == HDI_ENOENT ? "no such file" : strerror(errno));
		free(c->path);
		free(c);
		return r;
	}
	c->next = top->chain;
	top->chain = c;
	/* read-only and shared, but nobody may change it under the overlay;
	 * the one commit writes into is locked for writing */
	if (ed_lock(c->path, &c->file, top->rw_depth == depth + 1 ?
		    ED_LOCK_RDWR | ED_LOCK_KEEP : ED_LOCK_KEEP))
		return HDI_EBUSY;
	c->is_qcow2 = fmt && !strcmp(fmt, "raw") ? 0 : probe_qcow2(&c->file);
	if (fmt && !strcmp(fmt, "qcow2") && !c->is_qcow2)
		return HDI_ECORRUPT;
	if (!c->is_qcow2) {
		*out = &c->file.bdev;
		return HDI_OK;
	}
	c->ws = malloc(ED_WORKSPACE);
	if (!c->ws)
		return HDI_ENOMEM;
	memset(&o, 0, sizeof o);
	o.flags = top->rw_depth == depth + 1 ? HDI_QCOW2_RDWR : 0;
	o.workspace = c->ws;
	o.workspace_size = ED_WORKSPACE;
	o.open_backing = open_backing;
	o.backing_ctx = top;
	o.depth = depth + 1;
	r = hdi_qcow2_open(&c->q, &c->file.bdev, &o);
	if (r)
		return r;
	*out = hdi_qcow2_bdev(&c->q);
	return HDI_OK;
}

static void chain_free(struct ed_image *im)
{
	struct ed_chain *c = im->chain, *n;
	for (; c; c = n) {
		n = c->next;
		if (c->is_qcow2 && c->ws)
			hdi_qcow2_close(&c->q);
		file_dev_close(&c->file);
		free(c->ws);
		free(c->path);
		free(c);
	}
	im->chain = NULL;
}

int ed_open(struct ed_image *im, const char *path, int flags)
{
	struct hdi_qcow2_opts o;
	int r;
	memset(im, 0, sizeof(*im));
	im->path = path;
	im->rw_depth = (unsigned)flags >> 8;
	r = file_dev_open(&im->file, path, (flags & ED_OPEN_RDWR) ? "r+b" : "rb", 0);
	if (r) {
		ed_err(path, "cannot open: %s", strerror(errno));
		return r;
	}
	im->is_qcow2 = probe_qcow2(&im->file);
	if (ed_lock(path, &im->file, ((flags & ED_OPEN_RDWR) ? ED_LOCK_RDWR : 0) |
		    (im->is_qcow2 || (flags & ED_OPEN_STABLE) ? ED_LOCK_KEEP : 0) |
		    ((flags & ED_OPEN_NO_IO) ? ED_LOCK_NO_IO : 0))) {
		file_dev_close(&im->file);
		return HDI_EBUSY;
	}
	if (!im->is_qcow2) {
		im->disk = &im->file.bdev;
		ed_test_hold();
		return HDI_OK;
	}
	im->ws_size = ED_WORKSPACE;
	/* tests run the tool with the kernel's minimum workspace */
	if (getenv("EDQCOW2_WORKSPACE")) {
		uint64_t v;
		if (!ed_parse_size(getenv("EDQCOW2_WORKSPACE"), &v) &&
		    v >= HDI_QCOW2_WORKSPACE_MIN && v <= ED_WORKSPACE)
			im->ws_size = (size_t)v;
	}
	im->ws = malloc(im->ws_size);
	if (!im->ws) {
		file_dev_close(&im->file);
		ed_err(path, "out of memory");
		return HDI_ENOMEM;
	}
	memset(&o, 0, sizeof o);
	o.flags = (flags & ED_OPEN_RDWR) ? HDI_QCOW2_RDWR : 0;
	if (flags & ED_OPEN_NO_BACKING)
		o.flags |= HDI_QCOW2_NO_BACKING;
	o.workspace = im->ws;
	o.workspace_size = im->ws_size;
	o.open_backing = open_backing;
	o.backing_ctx = im;
	if (flags & ED_OPEN_RDWR) {
		im->zc = ed_zctx_new();
		o.compress = ed_compress;
		o.compress_ctx = im->zc;
	}
	r = hdi_qcow2_open(&im->q, &im->file.bdev, &o);
	if (r) {
		ed_err_code(im, "cannot open image", r);
		chain_free(im);
		file_dev_close(&im->file);
		free(im->ws);
		im->ws = NULL;
		ed_zctx_free(im->zc);
		im->zc = NULL;
		return r;
	}
	im->disk = hdi_qcow2_bdev(&im->q);
	ed_test_hold();
	return HDI_OK;
}

int ed_close(struct ed_image *im)
{
	int r = HDI_OK, r2;
	if (im->is_qcow2 && im->ws)
		r = hdi_qcow2_close(&im->q);
	if (r)
		ed_err_code(im, "close", r);
	chain_free(im);
	r2 = file_dev_close(&im->file);
	if (r2 && !r) {
		ed_err(im->path, "close: %s", strerror(errno));
		r = r2;
	}
	free(im->ws);
	im->ws = NULL;
	ed_zctx_free(im->zc);
	im->zc = NULL;
	return r;
}

int ed_read(struct ed_image *im, uint64_t off, void *buf, size_t len)
{
	if (im->is_qcow2)
		return hdi_qcow2_read(&im->q, off, buf, len);
	return hdi_bdev_read(&im->file.bdev, off, buf, len);
}

int ed_write(struct ed_image *im, uint64_t off, const void *buf, size_t len)
{
	if (im->is_qcow2)
		return hdi_qcow2_write(&im->q, off, buf, len);
	return hdi_bdev_write(&im->file.bdev, off, buf, len);
}

uint64_t ed_disk_size(struct ed_image *im)
{
	uint64_t s = 0;
	hdi_bdev_size(im->disk, &s);
	return s;
}
