/* tools/cmd_build.c: `edqcow2 OUT build RECIPE`: a whole partitioned,
 * bootable image in one pass, straight into OUT (qcow2 or raw), under a
 * temporary name until it is complete. */
#define _FILE_OFFSET_BITS 64
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "convert_compress.h"
#include "ed.h"
#include "ed_compress.h"
#include "fdisk_ed.h"
#include "recipe.h"

static const char build_help[] =
	"usage: edqcow2 OUT build RECIPE [--define NAME=VALUE]... [--dry-run] [-p] [-j N]\n"
	"Builds the disk image OUT from RECIPE: an sfdisk script (label, label-id,\n"
	"partition lines) with image keys (format, size, cluster-size, compat,\n"
	"refcount-bits, lazy-refcounts, extended-l2, compression, bootcode) and\n"
	"per-partition file=PATH, size=auto (the file's size) or size=rest.\n"
	"Paths are relative to RECIPE's directory; ${NAME} comes from --define.\n"
	"The whole recipe is checked before OUT is written; OUT appears only\n"
	"when complete, and the same recipe and files give the same bytes.\n"
	"  --dry-run   print the layout and write nothing\n"
	"  -p          show progress\n"
	"  -j N        compress in N threads (compression: zlib|zstd; default:\n"
	"              the online CPUs)\n"
	"See docs/recipe.md.\n";

/* Where the layout is tried when the disk size is auto: a sparse raw file
 * this big (the MBR limit), so every placement fits. */
#define PROBE_BYTES (((1ull << 32) - 1) * 512)
#define CHUNK (4u << 20)

struct slot {
	unsigned n;               /* partition number, 0: none */
	uint64_t start, count;    /* 512-byte sectors */
	char type[40];            /* MBR type in hex, or the GPT type's GUID */
	int extended;             /* the MBR's extended partition */
};

struct build {
	struct recipe r;
	struct fd_script s;
	struct slot slot[RCP_MAX_PARTS];
	uint64_t disk;            /* bytes */
	const char *out;
	char *tmp;
	int dry, progress;
	unsigned jobs;
	uint64_t total, done;
	uint64_t tail;            /* GPT: sectors after the last partition */
	struct ed_image *im;      /* compressed fill: the image being written */
	FILE *f[RCP_MAX_PARTS];   /* compressed fill: the payloads, open */
};

static int parse_args(struct build *b, struct rcp_defines *d, int argc,
		      char **argv, const char **recipe)
{
	int i;
	*recipe = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--dry-run"))
			b->dry = 1;
		else if (!strcmp(a, "-p"))
			b->progress = 1;
		else if (!strcmp(a, "-j") || (!strncmp(a, "-j", 2) && a[2])) {
			const char *v = a[2] ? a + 2 : (++i < argc ? argv[i] : NULL);
			char *end;
			unsigned long n = v ? strtoul(v, &end, 10) : 0;
			if (!v || !*v || *end || n < 1 || n > 256)
				return ed_err(b->out, "-j wants a number of threads from 1 to 256");
			b->jobs = (unsigned)n;
		}
		else if (!strncmp(a, "--define=", 9) || (!strncmp(a, "-D", 2) && a[2])) {
			if (rcp_define(d, a + (a[1] == 'D' ? 2 : 9)))
				return 1;
		} else if (!strcmp(a, "--define") || !strcmp(a, "-D")) {
			if (++i == argc)
				return ed_err(b->out, "%s needs NAME=VALUE", a);
			if (rcp_define(d, argv[i]))
				return 1;
		} else if (a[0] == '-' && a[1])
			return ed_err(b->out, "build: unknown option %s", a);
		else if (*recipe)
			return ed_err(b->out, "build: one RECIPE only");
		else
			*recipe = a;
	}
	if (!*recipe)
		return ed_err(b->out, "usage: build RECIPE [--define NAME=VALUE] "
			      "[--dry-run] [-p] [-j N]");
	return 0;
}

static void guid_from(uint64_t h, unsigned salt, struct hdi_guid *g)
{
	unsigned i;
	for (i = 0; i < 16; i++) {
		h ^= (uint64_t)(salt + i + 1) * 0x9e3779b97f4a7c15ull;
		h *= 0x100000001b3ull;
		g->b[i] = (uint8_t)(h >> 56);
	}
	hdi_guid_make_v4(g);
}

/* What the recipe does not give comes from its text, so rebuilding gives
 * the same bytes: a dos label-id (never 0, which means "none"), a GPT's
 * disk GUID and the partitions' GUIDs. */
static void derive_ids(struct build *b)
{
	uint32_t id = (uint32_t)(b->r.hash ^ (b->r.hash >> 32));
	unsigned i;
	if (b->s.label != FD_LABEL_GPT) {
		if (!b->s.has_id) {
			b->s.has_id = 1;
			b->s.id = id ? id : 0x1dbeefu;
		}
		return;
	}
	if (!b->s.has_gid) {
		b->s.has_gid = 1;
		guid_from(b->r.hash, 0, &b->s.gid);
	}
	for (i = 0; i < b->s.n; i++)
		if (!b->s.line[i].has_uuid) {
			b->s.line[i].has_uuid = 1;
			guid_from(b->r.hash, i + 1, &b->s.line[i].uuid);
		}
}

static char *scratch(struct build *b);

/* The script goes through a scratch file: fd_script_read reads a FILE, and
 * fmemopen is not everywhere (Windows). */
static int read_script(struct build *b)
{
	char *path = scratch(b);
	FILE *f = path ? fopen(path, "w+") : NULL;
	int rc;
	if (!f) {
		rc = path ? ed_err(path, "cannot open: %s", strerror(errno)) : 1;
	} else {
		rc = fputs(b->r.script, f) < 0 || fflush(f) ?
		     ed_err(path, "cannot write: %s", strerror(errno)) : 0;
		rewind(f);
		if (!rc)
			rc = fd_script_read(&b->s, f, b->r.path);
		fclose(f);
	}
	if (path)
		unlink(path);
	free(path);
	if (!rc)
		derive_ids(b);
	return rc;
}

static int check_bootcode(struct build *b)
{
	FILE *f;
	long n;
	if (!b->r.bootcode)
		return 0;
	if (!(f = fopen(b->r.bootcode, "rb")))
		return rcp_err(&b->r, b->r.bootcode_line, "boot code '%s': %s",
			       b->r.bootcode, strerror(errno));
	n = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
	fclose(f);
	if (n != 440 && n != 446 && n != 512)
		return rcp_err(&b->r, b->r.bootcode_line, "boot code '%s' has %ld "
			       "bytes; it must have 440, 446 or 512", b->r.bootcode, n);
	return 0;
}

/* Creates path as an empty image of the recipe's format. */
static int create(struct build *b, const char *path, uint64_t size, int raw)
{
	FILE *f;
	if (!raw)
		return ed_create_qcow2_file(path, &b->r.q, size);
	if (!(f = fopen(path, "wb")))
		return ed_err(path, "cannot create: %s", strerror(errno));
	if (ftruncate(fileno(f), (off_t)size)) {
		fclose(f);
		return ed_err(path, "cannot size: %s", strerror(errno));
	}
	return fclose(f) ? ed_err(path, "cannot create: %s", strerror(errno)) : 0;
}

static void slot_of(const struct fd_ctx *c, unsigned n, struct slot *sl)
{
	const struct hdi_mbr_part *p;
	unsigned i;
	memset(sl, 0, sizeof(*sl));
	sl->n = n;
	if (c->is_gpt) {
		for (i = 0; i < c->g.nparts; i++) {
			const struct hdi_gpt_part *q = &c->g.parts[i];
			if (q->slot + 1 != n)
				continue;
			sl->start = q->first * (c->g.sector / 512);
			sl->count = (q->last - q->first + 1) * (c->g.sector / 512);
			hdi_guid_to_str(&q->type, sl->type);
		}
		return;
	}
	if ((p = hdi_mbr_get(&c->m, n))) {
		sl->start = p->start;
		sl->count = p->count;
		sl->extended = hdi_mbr_is_extended(p->type);
		snprintf(sl->type, sizeof sl->type, "%x", p->type);
	}
}

/* The partition a recipe line became; 0 for a line that makes none (an
 * old dump's empty slot, which the script reader drops). */
static unsigned result_of(const struct build *b, unsigned line)
{
	unsigned j;
	for (j = 0; j < b->s.n; j++)
		if (b->s.line[j].lineno == line)
			return b->s.line[j].result;
	return 0;
}

/* Writes the table on path and reads back where each line went. */
static int place(struct build *b, const char *path, struct slot *slot)
{
	struct fd_ctx *c;
	unsigned i;
	int rc = fd_apply(path, &b->s, FD_ALIGN_DEFAULT, 0);
	if (rc)
		return rc;
	if (!(c = malloc(sizeof(*c))))
		return ed_err(path, "out of memory");
	rc = fd_open(c, path, 0);
	for (i = 0; !rc && i < b->r.nparts; i++)
		slot_of(c, result_of(b, b->r.part[i].line), &slot[i]);
	/* the backup GPT (its array and header) follows the partitions */
	if (!rc && c->is_gpt)
		b->tail = (hdi_gpt_array_sectors(&c->g) + 1) * (c->g.sector / 512);
	if (c->open)
		rc = fd_close(c, rc);
	free(c);
	return rc;
}

/* A scratch file in $TMPDIR (or $TMP, $TEMP, /tmp); NULL after an error. */
static char *scratch(struct build *b)
{
	static const char *const vars[] = { "TMPDIR", "TMP", "TEMP" };
	const char *dir = NULL;
	size_t n, i;
	char *path;
	int fd;
	for (i = 0; i < sizeof vars / sizeof vars[0] && (!dir || !*dir); i++)
		dir = getenv(vars[i]);
	if (!dir || !*dir)
		dir = "/tmp";
	n = strlen(dir) + sizeof "/edqcow2-layout.XXXXXX";
	if (!(path = malloc(n))) {
		ed_err(b->out, "out of memory");
		return NULL;
	}
	snprintf(path, n, "%s/edqcow2-layout.XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0) {
		ed_err(b->out, "cannot make a scratch file: %s", strerror(errno));
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

/* Places the table on a sparse raw scratch disk of size bytes. */
static int try_layout(struct build *b, uint64_t size, struct slot *slot)
{
	char *path = scratch(b);
	int rc;
	if (!path)
		return 1;
	rc = create(b, path, size, 1) || place(b, path, slot);
	unlink(path);
	free(path);
	return rc;
}

/* size: auto: the end of the last partition rounded up to 1 MiB, found by
 * placing the table on a disk as big as an MBR can address. */
static int auto_size(struct build *b, struct slot *probe)
{
	uint64_t end = 0;
	unsigned i;
	if (try_layout(b, PROBE_BYTES, probe))
		return 1;
	for (i = 0; i < b->r.nparts; i++)
		if (probe[i].start + probe[i].count > end)
			end = probe[i].start + probe[i].count;
	end += b->tail;
	b->disk = (end * 512 + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
	return 0;
}

/* Every payload fits its partition; the layout on the real disk is the
 * one the size was computed from. */
static int check_fit(struct build *b, const struct slot *probe)
{
	unsigned i;
	for (i = 0; i < b->r.nparts; i++) {
		const struct rcp_part *pt = &b->r.part[i];
		const struct slot *s = &b->slot[i];
		if (probe && (probe[i].start != s->start || probe[i].count != s->count))
			return rcp_err(&b->r, pt->line, "the partition moved when the "
				       "disk got its final size; give it a start and size");
		if (pt->file && !s->n)
			return rcp_err(&b->r, pt->line, "this line makes no partition "
				       "(an empty slot); it cannot hold a file");
		if (pt->file && pt->file_size > s->count * 512)
			return rcp_err(&b->r, pt->line, "file '%s' (%llu bytes) does not "
				       "fit partition %u (%llu bytes)", pt->file,
				       (unsigned long long)pt->file_size, s->n,
				       (unsigned long long)(s->count * 512));
		if (pt->file && s->extended)
			return rcp_err(&b->r, pt->line, "partition %u is the extended "
				       "partition; it cannot hold a file", s->n);
	}
	return 0;
}

static void print_layout(const struct build *b)
{
	unsigned i;
	char id[40];
	if (b->s.label == FD_LABEL_GPT)
		hdi_guid_to_str(&b->s.gid, id);
	else
		snprintf(id, sizeof id, "0x%08x", (unsigned)b->s.id);
	printf("%s: %s, %llu bytes, label %s, id %s\n", b->out, b->r.q.format,
	       (unsigned long long)b->disk,
	       b->s.label == FD_LABEL_GPT ? "gpt" : "dos", id);
	if (b->r.bootcode)
		printf("boot code: %s\n", b->r.bootcode);
	printf("%4s %12s %12s %36s  %s\n", "part", "start", "sectors", "type", "source");
	for (i = 0; i < b->r.nparts; i++) {
		const struct slot *s = &b->slot[i];
		const struct rcp_part *pt = &b->r.part[i];
		if (!s->n)
			continue;   /* an empty slot */
		printf("%4u %12llu %12llu %36s  ", s->n, (unsigned long long)s->start,
		       (unsigned long long)s->count, s->type);
		if (pt->file)
			printf("%s (%llu bytes)\n", pt->file,
			       (unsigned long long)pt->file_size);
		else
			printf("-\n");
	}
}

static void show(struct build *b, int last)
{
	if (!b->progress)
		return;
	printf("    (%.2f/100%%)%s", last || !b->total ? 100.0 :
	       100.0 * (double)b->done / (double)b->total, last ? "\n" : "\r");
	fflush(stdout);
}

/* Writes buf at virtual off, leaving out the zero blocks: the new image
 * reads them as zeros already and they stay unallocated. */
static int put(struct ed_image *im, uint64_t off, const unsigned char *buf,
	       size_t n, uint64_t blk)
{
	size_t i = 0, run = 0, k;
	int r;
	for (; i < n; i += k) {
		k = (size_t)(blk - ((off + i) & (blk - 1)));
		if (k > n - i)
			k = n - i;
		if (!ed_all_zero(buf + i, k))
			continue;
		if (i > run && (r = ed_write(im, off + run, buf + run, i - run)))
			return r;
		run = i + k;
	}
	return n > run ? ed_write(im, off + run, buf + run, n - run) : 0;
}

static int payload(struct build *b, struct ed_image *im, unsigned i,
		   unsigned char *buf)
{
	const struct rcp_part *pt = &b->r.part[i];
	uint64_t off = b->slot[i].start * 512, blk;
	FILE *f = fopen(pt->file, "rb");
	size_t n;
	int r = 0;
	if (!f)
		return rcp_err(&b->r, pt->line, "file '%s': %s", pt->file, strerror(errno));
	blk = im->is_qcow2 ? (uint64_t)1 << b->r.q.o.cluster_bits : 4096;
	while (!r && (n = fread(buf, 1, CHUNK, f)) > 0) {
		if ((r = put(im, off, buf, n, blk)) < 0)
			ed_err_code(im, "writing the payload", r);
		off += n;
		b->done += n;
		show(b, 0);
	}
	if (!r && ferror(f))
		r = rcp_err(&b->r, pt->line, "reading '%s' failed", pt->file);
	fclose(f);
	return r ? 1 : 0;
}

/* ---- compressed payloads: the disk as `convert -c` would read it ------- */

/* Byte range of payload i on the disk; 0 when it has none. */
static int span(const struct build *b, unsigned i, uint64_t *s, uint64_t *e)
{
	if (!b->r.part[i].file || !b->r.part[i].file_size)
		return 0;
	*s = b->slot[i].start * 512;
	*e = *s + b->r.part[i].file_size;
	return 1;
}

static uint64_t cc_zero_run(void *ctx, uint64_t off)
{
	struct build *b = ctx;
	struct hdi_qcow2_extent x;
	uint64_t next = UINT64_MAX, s, e, run;
	unsigned i;
	for (i = 0; i < b->r.nparts; i++) {
		if (!span(b, i, &s, &e))
			continue;
		if (off >= s && off < e)
			return 0;
		if (s > off && s < next)
			next = s;
	}
	if (hdi_qcow2_map(&b->im->q, off, &x) < 0 ||
	    !(x.flags & HDI_QCOW2_MAP_ZERO) || (x.flags & HDI_QCOW2_MAP_DATA))
		return 0;
	run = x.start + x.length - off;
	return next - off < run ? next - off : run;
}

/* The image as written so far (the tables), with the payloads over it. */
static int cc_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct build *b = ctx;
	uint64_t s, e, a, z;
	unsigned i;
	int r = ed_read(b->im, off, buf, len);
	for (i = 0; !r && i < b->r.nparts; i++) {
		if (!span(b, i, &s, &e) || e <= off || s >= off + len)
			continue;
		a = s > off ? s : off;
		z = e < off + len ? e : off + len;
		if (fseeko(b->f[i], (off_t)(a - s), SEEK_SET) ||
		    fread((unsigned char *)buf + (a - off), 1, (size_t)(z - a),
			  b->f[i]) != (size_t)(z - a))
			r = HDI_EIO;
	}
	return r;
}

static void cc_progress(void *ctx, uint64_t off)
{
	struct build *b = ctx;
	b->done = off;
	show(b, 0);
}

static void cc_fail(void *ctx, int what, int code)
{
	struct build *b = ctx;
	static const char *const whats[] = { "reading the payloads",
		"writing the image", "compressing" };
	ed_err_code(b->im, whats[what < 0 || what > 2 ? 1 : what], code);
}

static int fill_compressed(struct build *b, struct ed_image *im)
{
	struct ed_cc cc;
	unsigned i;
	int rc = 0;
	for (i = 0; !rc && i < b->r.nparts; i++)
		if (b->r.part[i].file && !(b->f[i] = fopen(b->r.part[i].file, "rb")))
			rc = rcp_err(&b->r, b->r.part[i].line, "file '%s': %s",
				     b->r.part[i].file, strerror(errno));
	memset(&cc, 0, sizeof cc);
	cc.dst = &im->q;
	cc.size = b->disk;
	cc.cluster_size = (size_t)1 << b->r.q.o.cluster_bits;
	cc.type = b->r.q.o.compression_type;
	cc.jobs = b->jobs;
	cc.ctx = b;
	cc.zero_run = cc_zero_run;
	cc.read = cc_read;
	cc.progress = cc_progress;
	cc.fail = cc_fail;
	b->im = im;
	b->total = b->disk;
	if (!rc)
		rc = ed_cc_copy(&cc);
	for (i = 0; i < b->r.nparts; i++)
		if (b->f[i])
			fclose(b->f[i]);
	return rc;
}

static int fill(struct build *b)
{
	struct ed_image im;
	unsigned char *buf = NULL;
	unsigned i;
	int rc = 0;
	if (b->r.bootcode) {
		char *argv[] = { "bootcode", b->r.bootcode, NULL };
		if (ed_cmd_bootcode(b->tmp, 2, argv))
			return 1;
	}
	for (i = 0; i < b->r.nparts; i++)
		b->total += b->r.part[i].file ? b->r.part[i].file_size : 0;
	if (!b->total && !b->r.compression)
		return 0;
	if (!b->r.compression && !(buf = malloc(CHUNK)))
		return ed_err(b->out, "out of memory");
	if (ed_open(&im, b->tmp, ED_OPEN_RDWR) < 0) {
		free(buf);
		return 1;
	}
	show(b, 0);
	if (b->r.compression)
		rc = fill_compressed(b, &im);
	for (i = 0; !rc && !b->r.compression && i < b->r.nparts; i++)
		if (b->r.part[i].file)
			rc = payload(b, &im, i, buf);
	if (ed_close(&im))
		rc = 1;
	free(buf);
	return rc;
}

static int run(struct build *b)
{
	struct slot probe[RCP_MAX_PARTS];
	int raw = !strcmp(b->r.q.format, "raw"), rc;
	if (b->r.compression && !ed_compress_supported(b->r.q.o.compression_type))
		return rcp_err(&b->r, b->r.compression_line, "this edqcow2 was built "
			       "without %s compression", b->r.compression);
	if (check_bootcode(b) || read_script(b))
		return 1;
	if (b->r.size_auto && auto_size(b, probe))
		return 1;
	if (!b->r.size_auto)
		b->disk = (b->r.size + 511) & ~(uint64_t)511;
	if (b->dry) {
		rc = try_layout(b, b->disk, b->slot) ||
		     check_fit(b, b->r.size_auto ? probe : NULL);
		if (!rc)
			print_layout(b);
		return rc;
	}
	if (!(b->tmp = ed_tmp_begin(b->out)))
		return 1;
	rc = create(b, b->tmp, b->disk, raw) || place(b, b->tmp, b->slot) ||
	     check_fit(b, b->r.size_auto ? probe : NULL) || fill(b);
	rc = ed_tmp_end(b->tmp, b->out, rc) || rc;
	if (!rc)
		show(b, 1);
	free(b->tmp);
	return rc;
}

int ed_cmd_build(const char *image, int argc, char **argv)
{
	struct rcp_defines d;
	struct build *b;
	const char *recipe;
	int rc;
	if (!image || ed_wants_help(argc, argv)) {
		fputs(build_help, stdout);
		return 0;
	}
	if (!(b = calloc(1, sizeof(*b))))
		return ed_err(image, "out of memory");
	memset(&d, 0, sizeof d);
	b->out = image;
	rc = parse_args(b, &d, argc, argv, &recipe);
	if (!rc)
		rc = rcp_read(&b->r, recipe, &d);
	if (!rc)
		rc = run(b);
	rcp_free(&b->r);
	free(b);
	return rc;
}
