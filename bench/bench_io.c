/* bench/bench_io.c: the library side of `make bench`: replays a qemu-io
 * command list (4 KiB writes or reads) on a qcow2 image through the stdio
 * file device, and times new-cluster allocations for the flatness check.
 *
 *   bench_io write IMG CMDFILE   lines "write -q -P 0xNN OFFSET 4k"
 *   bench_io read  IMG CMDFILE   lines "read -q OFFSET 4k"
 *   bench_io alloc IMG START COUNT STRIDE
 *       COUNT 4 KiB writes at START + i*STRIDE (each into a new cluster);
 *       prints "ns_per_alloc WALL CPU": wall and CPU (user + system) time
 *       over the loop and the final flush, excluding open and close.
 *       Flush here skips fsync, so the figure is the allocator's and
 *       metadata path's cost, not the disk's.
 *
 * Device traffic (reads, writes, flushes) goes to stderr as "io ..." so
 * the harness can show what dominates. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "hdi/qcow2.h"
#include "dev_file.h"

#define WORKSPACE (64u << 20)   /* same as edqcow2 (tools/ed.h ED_WORKSPACE) */
#define IOLEN 4096u

static const struct hdi_bdev_ops *real;
static int no_fsync;
static unsigned long long n_rd, n_wr, n_fl, b_rd, b_wr;

static int c_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	n_rd++;
	b_rd += len;
	return real->read(ctx, off, buf, len);
}

static int c_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	n_wr++;
	b_wr += len;
	return real->write(ctx, off, buf, len);
}

static int c_flush(void *ctx)
{
	struct file_dev *fd = ctx;
	n_fl++;
	if (no_fsync)
		return fflush(fd->f) ? HDI_EIO : HDI_OK;
	return real->flush(ctx);
}

static int c_size(void *ctx, uint64_t *bytes)
{
	return real->size(ctx, bytes);
}

static int c_grow(void *ctx, uint64_t bytes)
{
	return real->grow(ctx, bytes);
}

static struct hdi_bdev_ops counting = {
	.version = HDI_BDEV_OPS_VERSION,
	.read = c_read,
	.write = c_write,
	.flush = c_flush,
	.size = c_size,
	.grow = c_grow,
};

static struct file_dev fdev;
static hdi_qcow2_t q;

static int die(const char *what, int code)
{
	fprintf(stderr, "bench_io: %s: error %d %s\n", what, code,
		hdi_qcow2_errmsg(&q));
	return 1;
}

static int open_image(const char *path, int rdwr)
{
	struct hdi_qcow2_opts o;
	int r = file_dev_open(&fdev, path, rdwr ? "r+b" : "rb", 0);
	if (r)
		return die(path, r);
	real = fdev.bdev.ops;
	counting.grow = real->grow ? c_grow : NULL;
	fdev.bdev.ops = &counting;
	memset(&o, 0, sizeof(o));
	o.flags = rdwr ? HDI_QCOW2_RDWR : 0;
	o.workspace = malloc(WORKSPACE);
	o.workspace_size = WORKSPACE;
	if (!o.workspace)
		return die("malloc", HDI_ENOMEM);
	r = hdi_qcow2_open(&q, &fdev.bdev, &o);
	return r ? die("open", r) : 0;
}

static int close_image(void)
{
	int r = hdi_qcow2_close(&q);
	int r2 = file_dev_close(&fdev);
	fprintf(stderr, "io reads %llu (%llu KiB) writes %llu (%llu KiB) flushes %llu\n",
		n_rd, b_rd >> 10, n_wr, b_wr >> 10, n_fl);
	if (r)
		return die("close", r);
	return r2 ? die("file close", r2) : 0;
}

static int replay(const char *img, const char *cmdfile, int writing)
{
	static unsigned char buf[IOLEN];
	char line[128];
	unsigned long long off, n = 0;
	unsigned pat;
	FILE *f = fopen(cmdfile, "r");
	int r;
	if (!f) {
		perror(cmdfile);
		return 1;
	}
	if (open_image(img, writing))
		return 1;
	while (fgets(line, sizeof(line), f)) {
		if (writing) {
			if (sscanf(line, "write -q -P %x %llu 4k", &pat, &off) != 2)
				goto bad;
			memset(buf, (int)pat, sizeof(buf));
			r = hdi_qcow2_write(&q, off, buf, IOLEN);
		} else {
			if (sscanf(line, "read -q %llu 4k", &off) != 1)
				goto bad;
			r = hdi_qcow2_read(&q, off, buf, IOLEN);
		}
		if (r)
			return die(writing ? "write" : "read", r);
		n++;
	}
	fclose(f);
	fprintf(stderr, "ops %llu\n", n);
	return close_image();
bad:
	fprintf(stderr, "bench_io: %s: bad line: %s", cmdfile, line);
	return 1;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

static int alloc(const char *img, uint64_t start, uint64_t count,
		 uint64_t stride)
{
	static unsigned char buf[IOLEN];
	double t0, t1, c0, c1;
	uint64_t i;
	int r;
	no_fsync = 1;
	if (open_image(img, 1))
		return 1;
	memset(buf, 0xa5, sizeof(buf));
	t0 = now_ns();
	c0 = cpu_ns();
	for (i = 0; i < count; i++)
		if ((r = hdi_qcow2_write(&q, start + i * stride, buf, IOLEN)))
			return die("write", r);
	if ((r = hdi_qcow2_flush(&q)))
		return die("flush", r);
	t1 = now_ns();
	c1 = cpu_ns();
	printf("ns_per_alloc %.0f %.0f\n", (t1 - t0) / (double)count,
	       (c1 - c0) / (double)count);
	return close_image();
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "write"))
		return replay(argv[2], argv[3], 1);
	if (argc == 4 && !strcmp(argv[1], "read"))
		return replay(argv[2], argv[3], 0);
	if (argc == 6 && !strcmp(argv[1], "alloc"))
		return alloc(argv[2], strtoull(argv[3], NULL, 0),
			     strtoull(argv[4], NULL, 0),
			     strtoull(argv[5], NULL, 0));
	fprintf(stderr, "usage: bench_io write|read IMG CMDFILE\n"
			"       bench_io alloc IMG START COUNT STRIDE\n");
	return 2;
}
