/* tools/convert_qcow2.c: `convert OUT -O qcow2 [create options] [-p]`: a
 * new qcow2 image holding the source's virtual disk, written in guest
 * order under a temporary name and renamed at the end; clusters that read
 * as zeros are left unallocated. */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "ed_read.h"
#include "ed_qcow2_opts.h"
#include "ed_compress.h"
#include "convert_compress.h"

#define CHUNK (4u << 20)

static const char convert_help[] =
	"usage: edqcow2 IMAGE convert OUT -O qcow2 [create options] [-c [-j N]] [-p]\n"
	"Writes IMAGE's virtual disk to a new qcow2 image OUT (replaced if it\n"
	"exists). Clusters that read as zeros stay unallocated. OUT appears\n"
	"only when complete: the image is written under a temporary name and\n"
	"renamed at the end.\n"
	"  --compat 0.10|1.1, --cluster-size N, --refcount-bits N,\n"
	"  --lazy-refcounts, --extended-l2, --compression-type zlib|zstd,\n"
	"  -o KEY=VALUE[,...]: as for create\n"
	"  -c   compress the clusters (zlib unless the compression type says\n"
	"       zstd), as qemu-img convert -c; the same bytes for any -j\n"
	"  -j N compress in N threads (default: the online CPUs)\n"
	"  -p   show progress\n";

/* The output's flushes order metadata for crash safety; a temporary file
 * that is thrown away on any failure does not need them to reach the
 * disk, and qemu-img convert does not sync either. */
static struct hdi_bdev_ops nosync_ops;

static int nosync_flush(void *ctx)
{
	struct file_dev *fd = ctx;
	return fflush(fd->f) ? HDI_EIO : HDI_OK;
}

struct conv {
	struct ed_image *src, dst;
	uint64_t size, cs, done;
	int progress, compress;
	unsigned jobs;
	double shown;
	unsigned char *buf;
};

static void show(struct conv *c, int last)
{
	double pct = c->size ? 100.0 * (double)c->done / (double)c->size : 100.0;
	if (!c->progress || (!last && (pct - c->shown < 0.01 || pct >= 100.0)))
		return;
	c->shown = pct;
	printf("    (%.2f/100%%)%s", last ? 100.0 : pct, last ? "\n" : "\r");
	fflush(stdout);
}

/* How far from off the source surely reads zeros (0: data or unknown). */
static uint64_t zero_run(struct conv *c, uint64_t off)
{
	struct hdi_qcow2_extent x;
	uint64_t len;
	int data;
	if (c->src->is_qcow2) {
		if (hdi_qcow2_map(&c->src->q, off, &x) < 0)
			return 0;
		return (x.flags & HDI_QCOW2_MAP_ZERO) && !(x.flags & HDI_QCOW2_MAP_DATA)
		       ? x.length : 0;
	}
	edr_file_run(c->src->file.f, c->src->file.size, off, c->size - off,
		     &data, &len);
	return data ? 0 : len;
}

/* Writes the non-zero clusters of buf (virtual [off, off+n)) in runs. */
static int put(struct conv *c, uint64_t off, const unsigned char *buf, size_t n)
{
	size_t i = 0, run = 0;
	int r;
	while (i < n) {
		size_t k = (size_t)(c->cs - ((off + i) & (c->cs - 1u)));
		if (k > n - i)
			k = n - i;
		if (ed_all_zero(buf + i, k)) {
			if (i > run && (r = hdi_qcow2_write(&c->dst.q, off + run,
							   buf + run, i - run)))
				return r;
			run = i + k;
		}
		i += k;
	}
	return n > run ? hdi_qcow2_write(&c->dst.q, off + run, buf + run, n - run)
		       : HDI_OK;
}

/* A raw source is mapped rather than read, so the kernel copies its bytes
 * once (into the image) instead of twice: a third less CPU for an import
 * (make bench). NULL when it cannot be mapped (a pipe, Windows); then the
 * caller reads. *base and *len are what to unmap. */
static const unsigned char *map_raw(struct conv *c, uint64_t off, size_t n,
				    void **base, size_t *len)
{
	if (c->src->is_qcow2)
		return NULL;
	return edr_map(c->src->file.f, c->src->file.size, off, n, base, len);
}

static int copy(struct conv *c)
{
	uint64_t off = 0, z;
	const unsigned char *data;
	void *base;
	size_t mlen = 0;
	int r;
	while (off < c->size) {
		size_t n;
		z = zero_run(c, off);
		if (z) {
			off += z < c->size - off ? z : c->size - off;
			c->done = off;
			show(c, 0);
			continue;
		}
		n = (size_t)(c->size - off < CHUNK ? c->size - off : CHUNK);
		base = NULL;
		data = map_raw(c, off, n, &base, &mlen);
		if (!data) {
			r = ed_read(c->src, off, c->buf, n);
			if (r < 0) {
				ed_err_code(c->src, "convert: read", r);
				return 1;
			}
			data = c->buf;
		}
		r = put(c, off, data, n);
		edr_unmap(base, mlen);
		if (r < 0) {
			ed_err_code(&c->dst, "convert: write", r);
			return 1;
		}
		off += n;
		c->done = off;
		show(c, 0);
	}
	return 0;
}

/* ---- convert -c: the parallel loop's hooks ---- */
static uint64_t cc_zero_run(void *ctx, uint64_t off)
{
	return zero_run(ctx, off);
}

static int cc_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct conv *c = ctx;
	return ed_read(c->src, off, buf, len);
}

static void cc_progress(void *ctx, uint64_t off)
{
	struct conv *c = ctx;
	c->done = off;
	show(c, 0);
}

static void cc_fail(void *ctx, int what, int code)
{
	struct conv *c = ctx;
	if (what == 0)
		ed_err_code(c->src, "convert: read", code);
	else if (what == 1)
		ed_err_code(&c->dst, "convert: write", code);
	else
		ed_err(c->dst.path, "convert: compression failed: %s", hdi_strerror(code));
}

static int copy_compressed(struct conv *c, const struct ed_qcow2_opts *o)
{
	struct ed_cc cc;
	memset(&cc, 0, sizeof cc);
	cc.dst = &c->dst.q;
	cc.size = c->size;
	cc.dst_size = ed_disk_size(&c->dst);
	cc.cluster_size = (size_t)c->cs;
	cc.type = o->o.compression_type;
	cc.jobs = c->jobs;
	cc.ctx = c;
	cc.zero_run = cc_zero_run;
	cc.read = cc_read;
	cc.progress = cc_progress;
	cc.fail = cc_fail;
	return ed_cc_copy(&cc);
}

static int parse_jobs(const char *image, const char *v, unsigned *jobs)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (!*v || *end || n < 1 || n > 1024)
		return ed_err(image, "convert: -j takes a thread count from 1 to 1024, not '%s'", v);
	*jobs = (unsigned)n;
	return 0;
}

static int parse(struct ed_image *src, const char *out, int argc, char **argv,
		 struct ed_qcow2_opts *o, struct conv *c)
{
	int i, r;
	const char *snap;
	for (i = 1; i < argc; i++) {
		if (argv[i] == out)
			continue;
		if (!strcmp(argv[i], "-p")) {
			c->progress = 1;
			continue;
		}
		if (!strcmp(argv[i], "-c")) {
			c->compress = 1;
			continue;
		}
		if (!strncmp(argv[i], "-j", 2)) {
			const char *v = argv[i][2] ? argv[i] + 2 : i + 1 < argc ? argv[++i] : "";
			if (parse_jobs(src->path, v, &c->jobs))
				return 1;
			continue;
		}
		if (!strcmp(argv[i], "-O") && i + 1 < argc) {
			i++;
			continue;
		}
		if (!strncmp(argv[i], "-O", 2))
			continue;
		if (edr_snapshot_opt(argc, argv, &i, &snap) == 1)
			continue;
		r = ed_qcow2_opts_parse(src->path, o, argc, argv, &i);
		if (r < 0)
			return 1;
		if (!r)
			return ed_err(src->path, "convert: unexpected argument '%s' (try --help)",
				      argv[i]);
	}
	if (o->backing)
		return ed_err(src->path, "convert: --backing is not supported; convert writes a standalone image");
	if (strcmp(o->format, "qcow2"))
		return ed_err(src->path, "convert: --format must be qcow2 here");
	if (c->compress && !ed_compress_supported(o->o.compression_type))
		return ed_err(src->path, "convert: zstd compression is not available in this build (no libzstd for Windows); use zlib");
	return ed_qcow2_opts_check(src->path, o);
}

int ed_convert_to_qcow2(struct ed_image *src, const char *out, int argc,
			char **argv)
{
	struct ed_qcow2_opts o;
	struct conv c;
	char *tmp_path;
	int r;
	if (ed_wants_help(argc, argv)) {
		fputs(convert_help, stdout);
		return 0;
	}
	memset(&c, 0, sizeof c);
	ed_qcow2_opts_init(&o);
	if (parse(src, out, argc, argv, &o, &c))
		return 1;
	c.src = src;
	c.size = ed_disk_size(src);
	c.cs = 1ull << o.o.cluster_bits;
	c.buf = malloc(CHUNK);
	if (!c.buf)
		return ed_err(out, "out of memory");
	if (!(tmp_path = ed_tmp_begin(out))) {
		free(c.buf);
		return 1;
	}
	r = ed_create_qcow2_file(tmp_path, &o, c.size);
	if (!r)
		r = ed_open(&c.dst, tmp_path, ED_OPEN_RDWR) ? 1 : 0;
	if (!r) {
		nosync_ops = *c.dst.file.bdev.ops;
		nosync_ops.flush = nosync_flush;
		c.dst.file.bdev.ops = &nosync_ops;
		show(&c, 0);
		r = c.compress ? copy_compressed(&c, &o) : copy(&c);
		if (ed_close(&c.dst))
			r = 1;
	}
	r = ed_tmp_end(tmp_path, out, r) || r;
	if (!r)
		show(&c, 1);
	free(tmp_path);
	free(c.buf);
	return r;
}
