/* tools/cmd_compare.c: `compare IMAGE2 [-s] [-F FMT] [-p]`, qemu-img
 * compare: same guest-visible contents? Exit 0 identical, 1 different,
 * 2 and up an error; the first difference is named by its 512-byte sector. */
#define _FILE_OFFSET_BITS 64
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "ed_read.h"

#define CHUNK (2u << 20)
#define SECTOR 512u

static const char compare_help[] =
	"usage: edqcow2 IMAGE1 compare IMAGE2 [-s] [-F FMT] [-p] [-q]\n"
	"       edqcow2 compare [-f FMT] [-F FMT] [-s] [-p] [-q] IMAGE1 IMAGE2\n"
	"Compares the virtual disks (backing files included) as qemu-img compare\n"
	"does. Prints \"Images are identical.\" or \"Content mismatch at offset N!\"\n"
	"(N: the first differing 512-byte sector). Exit status: 0 identical,\n"
	"1 different, 2 an image cannot be opened, 3 or 4 a read error.\n"
	"Past the end of the smaller disk the larger one must read as zeros.\n"
	"  -s   strict: sizes and allocation status must match too\n"
	"  -F   IMAGE2's format (-f: IMAGE1's)\n"
	"  -p   show progress;  -q  print nothing, only the exit status\n";

struct side {
	struct ed_image im;
	const char *name;
	uint64_t size;     /* rounded up to a sector, as qemu counts it */
	struct edr_bs bs;  /* block status state */
};

static int status(struct side *s, uint64_t off, uint64_t max, unsigned *st,
		  uint64_t *len)
{
	return edr_block_status(&s->bs, off, max, st, len);
}

/* Reads [off, off+n), zeros past the disk's end (an odd-sized raw file). */
static int read_pad(struct side *s, uint64_t off, unsigned char *buf, size_t n)
{
	uint64_t disk = ed_disk_size(&s->im);
	size_t have = off >= disk ? 0 : (size_t)(disk - off < n ? disk - off : n);
	memset(buf + have, 0, n - have);
	return have ? ed_read(&s->im, off, buf, have) : 0;
}

/* Offset in buf of the first sector where a and b differ (b NULL: where a
 * is not all zeros), or UINT64_MAX. */
static uint64_t first_diff(const unsigned char *a, const unsigned char *b,
			   size_t n)
{
	size_t i, k;
	for (i = 0; i < n; i += SECTOR) {
		k = n - i < SECTOR ? n - i : SECTOR;
		if (b ? memcmp(a + i, b + i, k) != 0 : !ed_all_zero(a + i, k))
			return i;
	}
	return UINT64_MAX;
}

struct cmp {
	struct side s[2];
	unsigned char *buf[2];
	int strict, progress;
	uint64_t total, done;
};

static void progress(struct cmp *c, int last)
{
	if (!c->progress)
		return;
	printf("    (%.2f/100%%)%s", last || !c->total ? 100.0 :
	       100.0 * (double)c->done / (double)c->total, last ? "\n" : "\r");
	fflush(stdout);
}

/* len from off, cut down to whole sectors (0 if less than one): qemu
 * works in sectors, so a mismatch is always named by its sector. */
static uint64_t sector_span(uint64_t off, uint64_t len)
{
	uint64_t end = (off + len) & ~(uint64_t)(SECTOR - 1);
	return end > off ? end - off : 0;
}

/* The common part. Returns 0 same, 1 different, > 1 error. */
static int compare_common(struct cmp *c, uint64_t end)
{
	uint64_t off = 0;
	while (off < end) {
		unsigned st[2];
		uint64_t len[2], n, d;
		int i;
		for (i = 0; i < 2; i++) {
			int r = status(&c->s[i], off, end - off, &st[i], &len[i]);
			if (r < 0) {
				ed_err_code(&c->s[i].im, "Sector allocation test failed", r);
				return 3;
			}
		}
		if (c->strict && st[0] != st[1]) {
			printf("Strict mode: Offset %" PRIu64 " block status mismatch!\n", off);
			return 1;
		}
		n = sector_span(off, len[0] < len[1] ? len[0] : len[1]);
		if ((st[0] & EDR_ST_ZERO) && (st[1] & EDR_ST_ZERO) && n) {
			off += n;
			continue;
		}
		if (!n)
			n = SECTOR;  /* a partial sector (odd raw end): compare it */
		if (n > CHUNK)
			n = CHUNK;
		for (i = 0; i < 2; i++) {
			int r = read_pad(&c->s[i], off, c->buf[i], (size_t)n);
			if (r < 0) {
				ed_err(c->s[i].name, "Error while reading offset %" PRIu64 ": %s",
				       off, hdi_strerror(r));
				return 4;
			}
		}
		d = first_diff(c->buf[0], c->buf[1], (size_t)n);
		if (d != UINT64_MAX) {
			printf("Content mismatch at offset %" PRIu64 "!\n", off + d);
			return 1;
		}
		off += n;
		c->done = off;
		progress(c, 0);
	}
	return 0;
}

/* Past the smaller disk's end the larger must read as zeros. */
static int compare_tail(struct cmp *c, struct side *s, uint64_t off)
{
	while (off < s->size) {
		unsigned st;
		uint64_t n, d;
		int r = status(s, off, s->size - off, &st, &n);
		if (r < 0) {
			ed_err_code(&s->im, "Sector allocation test failed", r);
			return 3;
		}
		n = sector_span(off, n);
		if (!n || !(st & EDR_ST_ZERO)) {
			n = n ? n : SECTOR;
			if (n > CHUNK)
				n = CHUNK;
			r = read_pad(s, off, c->buf[0], (size_t)n);
			if (r < 0) {
				ed_err(s->name, "Error while reading offset %" PRIu64 ": %s",
				       off, hdi_strerror(r));
				return 4;
			}
			d = first_diff(c->buf[0], NULL, (size_t)n);
			if (d != UINT64_MAX) {
				printf("Content mismatch at offset %" PRIu64 "!\n", off + d);
				return 1;
			}
		}
		off += n;
		c->done = off;
		progress(c, 0);
	}
	return 0;
}

static int run(struct cmp *c)
{
	uint64_t a = c->s[0].size, b = c->s[1].size;
	int r;
	c->total = a > b ? a : b;
	progress(c, 0);
	if (c->strict && a != b) {
		printf("Strict mode: Image size mismatch!\n");
		return 1;
	}
	r = compare_common(c, a < b ? a : b);
	if (r || a == b)
		return r;
	printf("Warning: Image size mismatch!\n");
	return compare_tail(c, &c->s[a > b ? 0 : 1], a < b ? a : b);
}

static int parse(const char *image, int argc, char **argv, struct cmp *c,
		 const char **fmt2)
{
	int i;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-s"))
			c->strict = 1;
		else if (!strcmp(a, "-p"))
			c->progress = 1;
		else if (!strcmp(a, "-F") && i + 1 < argc)
			*fmt2 = argv[++i];
		else if (a[0] != '-' && !c->s[1].name)
			c->s[1].name = a;
		else
			return ed_err(image, "compare: unexpected argument '%s' (try --help)", a);
	}
	if (!c->s[1].name)
		return ed_err(image, "compare: Expecting two image file names");
	return 0;
}

int ed_cmd_compare(const char *image, int argc, char **argv)
{
	struct cmp c;
	const char *fmt2 = NULL;
	int r, i;
	if (!image || ed_wants_help(argc, argv)) {
		fputs(compare_help, stdout);
		return 0;
	}
	memset(&c, 0, sizeof c);
	c.s[0].name = image;
	/* a usage error is an error (2), never "different" (1) */
	if (parse(image, argc, argv, &c, &fmt2))
		return 2;
	if (fmt2 && ed_check_format(c.s[1].name, fmt2))
		return 2;
	for (i = 0; i < 2; i++) {
		if (ed_open(&c.s[i].im, c.s[i].name, 0)) {
			if (i)
				ed_close(&c.s[0].im);
			return 2;
		}
		c.s[i].size = (ed_disk_size(&c.s[i].im) + SECTOR - 1) & ~(uint64_t)(SECTOR - 1);
		edr_bs_init(&c.s[i].bs, &c.s[i].im);
	}
	c.buf[0] = malloc(CHUNK);
	c.buf[1] = malloc(CHUNK);
	if (!c.buf[0] || !c.buf[1])
		r = ed_err(image, "out of memory") + 1;
	else
		r = run(&c);
	if (!r) {
		progress(&c, 1);
		printf("Images are identical.\n");
	}
	free(c.buf[0]);
	free(c.buf[1]);
	ed_close(&c.s[1].im);
	ed_close(&c.s[0].im);
	return r;
}
