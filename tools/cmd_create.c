/* tools/cmd_create.c: `create SIZE [options]` (qcow2 or raw) and
 * `resize [+-]SIZE [--shrink]`. */
#define _FILE_OFFSET_BITS 64
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ed.h"
#include "ed_qcow2_opts.h"
#include "fdisk_ed.h"

#define CREATE_WS (1u << 20)

static const char create_help[] =
	"usage: edqcow2 IMAGE create [SIZE] [options]\n"
	"       edqcow2 create [-f FMT] [-o OPTS] [-b FILE -F FMT] IMAGE [SIZE]\n"
	"Makes a new image (an existing file is overwritten).\n"
	"  --format raw|qcow2        image format (default qcow2)\n"
	"  --compat 0.10|1.1         qcow2 version 2 or 3 (default 1.1)\n"
	"  --cluster-size N          512 to 2M, a power of two (default 64K)\n"
	"  --refcount-bits N         1, 2, 4, 8, 16, 32 or 64 (default 16)\n"
	"  --lazy-refcounts          compat 1.1 only\n"
	"  --extended-l2             subclusters; compat 1.1, clusters >= 16K\n"
	"  --backing FILE            backing file (relative to IMAGE's directory)\n"
	"  --backing-format raw|qcow2  (default: probed from FILE)\n"
	"  --preallocation off|metadata  metadata: every cluster gets its host\n"
	"                            cluster and L2 entry now (no backing file)\n"
	"  --compression-type zlib|zstd  for compressed clusters (default zlib;\n"
	"                            zstd needs compat 1.1)\n"
	"  -o KEY=VALUE[,...]        qemu-img's spelling: compat, cluster_size,\n"
	"                            refcount_bits, lazy_refcounts, extended_l2,\n"
	"                            backing_file, backing_fmt, preallocation,\n"
	"                            compression_type, size (-o help lists them)\n"
	"  -f FMT, -b FILE, -F FMT   qemu-img's --format, --backing, --backing-format\n"
	"SIZE may be left out with --backing: the backing file's size is used.\n"
	"SIZE is rounded up to a multiple of 512, as qemu-img does.\n";

/* Is arg "--name" or "--name=value"? Sets *val (NULL if it needs the next
 * argument). */
static int opt_is(const char *arg, const char *name, const char **val)
{
	size_t n = strlen(name);
	if (strncmp(arg, name, n))
		return 0;
	if (arg[n] == '=') {
		*val = arg + n + 1;
		return 1;
	}
	if (arg[n])
		return 0;
	*val = NULL;
	return 1;
}

void ed_qcow2_opts_init(struct ed_qcow2_opts *c)
{
	memset(c, 0, sizeof(*c));
	c->o.version = 3;
	c->o.cluster_bits = 16;
	c->o.refcount_bits = 16;
	c->format = "qcow2";
	c->prealloc = "off";
}

struct set_ctx { const char *image; struct ed_qcow2_opts *c; };

static int bad(const char *image, const char *key, const char *v,
	       const char *want)
{
	ed_err(image, "invalid value '%s' for %s (%s)", v ? v : "", key, want);
	return -1;
}

static int set_size_opt(const char *image, struct ed_qcow2_opts *c,
			const char *key, const char *v)
{
	uint64_t n;
	if (!strcmp(key, "size")) {
		if (!v || ed_parse_size(v, &n))
			return bad(image, key, v, "a size");
		c->size = n;
		return 0;
	}
	if (!strcmp(key, "cluster_size")) {
		if (!v || ed_parse_size(v, &n) || n < 512 || n > (2u << 20) ||
		    (n & (n - 1))) {
			ed_err(image, "Cluster size must be a power of two between 512 and 2048k, not '%s'",
			       v ? v : "");
			return -1;
		}
		for (c->o.cluster_bits = 9; (1ull << c->o.cluster_bits) < n;)
			c->o.cluster_bits++;
		return 0;
	}
	/* refcount_bits */
	if (!v || ed_parse_size(v, &n) || n < 1 || n > 64 || (n & (n - 1))) {
		ed_err(image, "Refcount width must be a power of two and may not exceed 64 bits, not '%s'",
		       v ? v : "");
		return -1;
	}
	c->o.refcount_bits = (uint32_t)n;
	return 0;
}

static int set_choice(const char *image, struct ed_qcow2_opts *c,
		      const char *key, const char *v)
{
	int b = 0;
	if (!strcmp(key, "compat")) {
		if (v && (!strcmp(v, "0.10") || !strcmp(v, "v2")))
			c->o.version = 2;
		else if (v && (!strcmp(v, "1.1") || !strcmp(v, "v3")))
			c->o.version = 3;
		else
			return bad(image, key, v, "0.10 or 1.1");
		return 0;
	}
	if (!strcmp(key, "preallocation")) {
		if (!v || (strcmp(v, "off") && strcmp(v, "metadata") &&
			   strcmp(v, "falloc") && strcmp(v, "full")))
			return bad(image, key, v, "off, metadata, falloc or full");
		c->prealloc = v;
		c->o.preallocate_metadata = !strcmp(v, "metadata");
		return 0;
	}
	if (!strcmp(key, "compression_type")) {
		if (v && !strcmp(v, "zlib"))
			c->o.compression_type = HDI_QCOW2_COMPRESSION_ZLIB;
		else if (v && !strcmp(v, "zstd"))
			c->o.compression_type = HDI_QCOW2_COMPRESSION_ZSTD;
		else
			return bad(image, key, v, "zlib or zstd");
		return 0;
	}
	if (ed_parse_bool(v, &b))
		return bad(image, key, v, "on or off");
	if (!strcmp(key, "lazy_refcounts"))
		c->o.lazy_refcounts = b;
	else
		c->o.extended_l2 = b;
	return 0;
}

static const char o_help[] =
	"qcow2 options (-o key=value,...):\n"
	"  size=SIZE                virtual disk size\n"
	"  compat=0.10|1.1          qcow2 version 2 or 3 (default 1.1)\n"
	"  cluster_size=SIZE        512 to 2M, a power of two (default 64k)\n"
	"  refcount_bits=N          1, 2, 4, 8, 16, 32 or 64 (default 16)\n"
	"  lazy_refcounts=on|off    compat 1.1 only\n"
	"  extended_l2=on|off       subclusters; compat 1.1, clusters >= 16k\n"
	"  compression_type=zlib|zstd  for compressed clusters (zstd: compat 1.1)\n"
	"  preallocation=off|metadata  (falloc and full: measure only)\n"
	"  backing_file=FILE        backing file (relative to the image)\n"
	"  backing_fmt=raw|qcow2\n";

/* One qemu-img option name (dashes work too) and its value. */
static int set_opt(void *ctx, const char *key, const char *v)
{
	struct set_ctx *x = ctx;
	static const char *const keys[] = {
		"size", "cluster_size", "refcount_bits", "compat",
		"preallocation", "compression_type", "lazy_refcounts",
		"extended_l2", "backing_file", "backing_fmt",
	};
	char k[32];
	size_t i, n = strlen(key);
	if (!strcmp(key, "help") || !strcmp(key, "?")) {
		fputs(o_help, stdout);
		exit(0);
	}
	if (n >= sizeof k)
		n = sizeof k - 1;
	for (i = 0; i < n; i++)
		k[i] = key[i] == '-' ? '_' : key[i];
	k[n] = 0;
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!strcmp(k, keys[i]))
			break;
	if (i == sizeof keys / sizeof keys[0]) {
		ed_err(x->image, "Invalid parameter '%s' (try -o help)", key);
		return -1;
	}
	x->c->set |= 1u << i;
	if (i < 3)
		return set_size_opt(x->image, x->c, k, v);
	if (i < 8)
		return set_choice(x->image, x->c, k, v);
	if (!v || !*v)
		return bad(x->image, key, v, "a name");
	if (i == 8) {
		x->c->backing = v;
		return 0;
	}
	if (strcmp(v, "raw") && strcmp(v, "qcow2"))
		return bad(x->image, key, v, "raw or qcow2");
	x->c->backing_fmt = v;
	return 0;
}

int ed_qcow2_opts_parse(const char *image, struct ed_qcow2_opts *c,
			int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v = NULL;
	struct set_ctx x = { image, c };
	/* our long names, qemu-img's short ones, and the -o key each sets */
	static const struct { const char *opt, *key; } names[] = {
		{ "--compat", "compat" }, { "--cluster-size", "cluster_size" },
		{ "--refcount-bits", "refcount_bits" },
		{ "--backing", "backing_file" }, { "-b", "backing_file" },
		{ "--backing-format", "backing_fmt" }, { "-F", "backing_fmt" },
		{ "--preallocation", "preallocation" },
		{ "--compression-type", "compression_type" },
		{ "--format", NULL }, { "-O", NULL }, { "-f", NULL },
		{ "-o", NULL },
	};
	size_t k;
	if (!strcmp(a, "--lazy-refcounts"))
		return set_opt(&x, "lazy_refcounts", "on") ? -1 : 1;
	if (!strcmp(a, "--extended-l2"))
		return set_opt(&x, "extended_l2", "on") ? -1 : 1;
	for (k = 0; k < sizeof names / sizeof names[0]; k++)
		if (opt_is(a, names[k].opt, &v))
			break;
	if (k == sizeof names / sizeof names[0])
		return 0;
	if (!v) {
		if (*i + 1 >= argc) {
			ed_err(image, "option %s needs a value", a);
			return -1;
		}
		v = argv[++*i];
	}
	if (names[k].key)
		return set_opt(&x, names[k].key, v) ? -1 : 1;
	if (!strcmp(names[k].opt, "-o"))
		return ed_o_each(image, v, set_opt, &x) ? -1 : 1;
	if (strcmp(v, "raw") && strcmp(v, "qcow2")) {
		ed_err(image, "format must be raw or qcow2, not '%s'", v);
		return -1;
	}
	c->format = v;
	return 1;
}

/* The library checks the combination, in qemu-img's wording, before any
 * file is touched. */
int ed_qcow2_opts_check(const char *image, struct ed_qcow2_opts *c)
{
	struct hdi_qcow2_create_opts t = c->o;
	const char *why;
	t.backing_file = c->backing;
	t.backing_format = c->backing_fmt;
	t.preallocate_metadata = strcmp(c->prealloc, "off") != 0;
	t.size &= ~(uint64_t)511u;
	if (hdi_qcow2_create_check(&t, &why) < 0)
		return ed_err(image, "%s", why);
	return 0;
}

/* n header bytes at p, big-endian. */
static uint64_t be(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	while (n--)
		v = (v << 8) | *p++;
	return v;
}

/* The backing file name in the qcow2 header of the file at path, resolved
 * against it; NULL for none (raw, no backing file, unreadable). */
static char *backing_of(const char *path)
{
	unsigned char h[20];
	char name[HDI_QCOW2_NAME_MAX];
	uint64_t off;
	uint32_t len;
	FILE *f = fopen(path, "rb");
	char *r = NULL;
	if (!f)
		return NULL;
	if (fread(h, 1, sizeof h, f) == sizeof h && hdi_qcow2_probe(h, sizeof h)) {
		off = be(h + 8, 8);
		len = (uint32_t)be(h + 16, 4);
		if (off && len && len < sizeof name && off <= INT64_MAX &&
		    !fseeko(f, (off_t)off, SEEK_SET) && fread(name, 1, len, f) == len) {
			name[len] = 0;
			r = ed_resolve(path, name);
		}
	}
	fclose(f);
	return r;
}

/* Is the image in the chain that starts at path (malloc'd, freed here)?
 * Creating it would truncate a file that chain reads: its data lost, and
 * a loop. */
static int in_chain(const char *image, char *path)
{
	unsigned d;
	int found = 0;
	for (d = 0; path && !found && d < HDI_QCOW2_MAX_CHAIN; d++) {
		char *next;
		found = ed_same_file(path, image);
		next = found ? NULL : backing_of(path);
		free(path);
		path = next;
	}
	free(path);
	return found;
}

/* Looks at the backing file as the image will see it: checks it is there,
 * probes its format if none was given, and reads its virtual size from
 * the qcow2 header (or the raw file's length). */
static int probe_backing(const char *image, struct ed_qcow2_opts *c,
			 uint64_t *size)
{
	struct file_dev b;
	unsigned char h[32];
	char *path = ed_resolve(image, c->backing);
	int is_q, r;
	if (!path)
		return ed_err(image, "out of memory");
	/* the image would be its own backing file, and the old one is lost */
	if (ed_same_file(path, image)) {
		free(path);
		return ed_err(image, "create: the backing file '%s' is the image being created", c->backing);
	}
	/* ... or deeper in its chain */
	if (in_chain(image, backing_of(path))) {
		free(path);
		return ed_err(image, "create: the image being created is in the backing chain "
			      "of '%s'; creating it would destroy that chain's data", c->backing);
	}
	r = file_dev_open(&b, path, "rb", 0);
	if (r) {
		free(path);
		return ed_err(image, "could not open backing file '%s': %s",
			      c->backing, strerror(errno));
	}
	r = ed_lock(path, &b, ED_LOCK_KEEP);
	free(path);
	if (r) {
		file_dev_close(&b);
		return 1;
	}
	is_q = b.size >= sizeof h && !hdi_bdev_read(&b.bdev, 0, h, sizeof h) &&
	       hdi_qcow2_probe(h, sizeof h);
	if (c->backing_fmt && !strcmp(c->backing_fmt, "qcow2") && !is_q) {
		file_dev_close(&b);
		return ed_err(image, "backing file '%s' is not qcow2", c->backing);
	}
	if (!c->backing_fmt)
		c->backing_fmt = is_q ? "qcow2" : "raw";
	if (!strcmp(c->backing_fmt, "qcow2"))
		*size = be(h + 24, 8);
	else
		*size = b.size;
	file_dev_close(&b);
	return 0;
}

int ed_create_qcow2_file(const char *path, struct ed_qcow2_opts *c,
			 uint64_t size)
{
	struct file_dev fd;
	const char *why;
	void *ws;
	int r;
	if (strcmp(c->prealloc, "off") && strcmp(c->prealloc, "metadata"))
		return ed_err(path, "create: preallocation=%s is not supported (off or metadata)",
			      c->prealloc);
	c->o.size = (size + 511u) & ~(uint64_t)511u;
	c->o.backing_file = c->backing;
	c->o.backing_format = c->backing_fmt;
	if (ed_create_open(&fd, path))
		return 1;
	ws = malloc(CREATE_WS);
	if (!ws) {
		file_dev_close(&fd);
		return ed_err(path, "out of memory");
	}
	r = hdi_qcow2_create(&fd.bdev, &c->o, ws, CREATE_WS);
	free(ws);
	if (file_dev_close(&fd) && !r)
		r = HDI_EIO;
	if (r && hdi_qcow2_create_check(&c->o, &why) == r)
		return ed_err(path, "create: %s", why);
	if (r)
		return ed_err(path, "create: %s", hdi_strerror(r));
	return 0;
}

static int create_raw(const char *path, uint64_t size)
{
	struct file_dev fd;
	int r;
	if (ed_create_open(&fd, path))
		return 1;
	r = hdi_bdev_ensure_size(&fd.bdev, size);
	if (file_dev_close(&fd) && !r)
		r = HDI_EIO;
	return r ? ed_err(path, "create: %s", hdi_strerror(r)) : 0;
}

int ed_cmd_create(const char *image, int argc, char **argv)
{
	struct ed_qcow2_opts c;
	const char *size_arg = NULL;
	uint64_t size = 0, bsize = 0;
	int i, r;
	if (!image || ed_wants_help(argc, argv)) {
		fputs(create_help, stdout);
		return 0;
	}
	ed_qcow2_opts_init(&c);
	for (i = 1; i < argc; i++) {
		r = ed_qcow2_opts_parse(image, &c, argc, argv, &i);
		if (r < 0)
			return 1;
		if (r)
			continue;
		if (argv[i][0] == '-' && argv[i][1])
			return ed_err(image, "create: unknown option %s", argv[i]);
		if (size_arg)
			return ed_err(image, "create: unexpected argument '%s'", argv[i]);
		size_arg = argv[i];
	}
	if (size_arg && ed_parse_size(size_arg, &size))
		return ed_err(image, "create: invalid size '%s'", size_arg);
	if (!size_arg && (c.set & ED_SET_SIZE)) {
		size_arg = "size";
		size = c.size;
	}
	if (!strcmp(c.format, "raw")) {
		if (c.set & ~(ED_SET_SIZE | ED_SET_PREALLOC) ||
		    strcmp(c.prealloc, "off"))
			return ed_err(image, "create: qcow2 options given with --format raw");
		if (!size_arg)
			return ed_err(image, "create: SIZE is required");
		return create_raw(image, size);
	}
	if (ed_qcow2_opts_check(image, &c))
		return 1;
	if (c.backing && probe_backing(image, &c, &bsize))
		return 1;
	if (!size_arg) {
		if (!c.backing)
			return ed_err(image, "create: SIZE is required");
		size = bsize;
	}
	if (size > UINT64_MAX - 511u)
		return ed_err(image, "create: invalid size '%s'", size_arg);
	return ed_create_qcow2_file(image, &c, size);
}

/* ---- resize ------------------------------------------------------------- */

static const char resize_help[] =
	"usage: edqcow2 IMAGE resize [+|-]SIZE [--shrink]\n"
	"Changes the virtual disk size (+/- relative to the current size).\n"
	"The new area of a grown disk reads as zeros. Shrinking a qcow2 image\n"
	"over allocated data needs --shrink (that data is dropped); a raw\n"
	"image always needs it.\n";

int ed_cmd_resize(const char *image, int argc, char **argv)
{
	struct ed_image im;
	const char *arg = NULL;
	int shrink = 0, i, r, sign = 0;
	uint64_t v, cur, size;
	if (!image || ed_wants_help(argc, argv)) {
		fputs(resize_help, stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--shrink"))
			shrink = 1;
		else if (!arg)
			arg = argv[i];
		else
			return ed_err(image, "resize: unexpected argument '%s'", argv[i]);
	}
	if (!arg)
		return ed_err(image, "resize: SIZE is required");
	if (arg[0] == '+' || arg[0] == '-')
		sign = *arg++ == '+' ? 1 : -1;
	if (ed_parse_size(arg, &v))
		return ed_err(image, "resize: invalid size '%s'", arg);
	/* with the backing file open, growth zeroes only what it covers */
	if (ed_open(&im, image, ED_OPEN_RDWR))
		return 1;
	cur = ed_disk_size(&im);
	if (sign > 0 && v > UINT64_MAX - cur - 511u) {
		ed_close(&im);
		return ed_err(image, "resize: size too large");
	}
	if (sign < 0 && v > cur) {
		ed_close(&im);
		return ed_err(image, "resize: the image would have a negative size");
	}
	size = sign > 0 ? cur + v : sign < 0 ? cur - v : v;
	if (im.is_qcow2)
		size = (size + 511u) & ~(uint64_t)511u;
	if (!im.is_qcow2 && size < cur && !shrink) {
		ed_close(&im);
		return ed_err(image, "resize: use --shrink to shrink the image (data past the new end is lost)");
	}
	/* A GPT's backup moves into what stays before a shrink (a shrink that
	 * cuts a partition is refused), after a grow to the new end. */
	if (size < cur && fd_gpt_follow_resize(&im, size)) {
		ed_close(&im);
		return 1;
	}
	if (im.is_qcow2) {
		r = hdi_qcow2_resize(&im.q, size,
				     shrink ? HDI_QCOW2_RESIZE_SHRINK : 0);
		if (r) {
			ed_err_code(&im, "resize", r);
			ed_close(&im);
			return 1;
		}
		if (size > cur && fd_gpt_follow_resize(&im, size)) {
			ed_close(&im);
			return 1;
		}
		return ed_close(&im) ? 1 : 0;
	}
	/* on the locked descriptor: nobody may take the image meanwhile */
	r = fflush(im.file.f) || ftruncate(fileno(im.file.f), (off_t)size);
	if (r)
		ed_err(image, "resize: %s", strerror(errno));
	else {
		im.file.size = size;
		if (size > cur)
			r = fd_gpt_follow_resize(&im, size);
	}
	return ed_close(&im) || r ? 1 : 0;
}
