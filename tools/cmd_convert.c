/* tools/cmd_convert.c: edqcow2 convert OUT -O raw: the virtual disk as a
 * sparse raw file, byte-identical to qemu-img convert -O raw. -O qcow2 is
 * handed to the write path's ed_convert_to_qcow2. */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ed_read.h"
#include "export_par.h"

#define CHUNK (4u << 20)
#define SPARSE 4096u     /* qemu-img convert's default -S 4k */

static const char *convert_usage =
	"usage: edqcow2 IMAGE convert OUT -O raw|qcow2 [--snapshot ID|NAME] [-p] [-j N]\n"
	"       edqcow2 convert [-f FMT] -O raw|qcow2 [-o OPTS] [-p] IMAGE OUT\n"
	"  Writes the virtual disk to OUT. -O raw makes a sparse raw file\n"
	"  (zero ranges and all-zero 4 KiB blocks become holes), byte for byte\n"
	"  what qemu-img convert -O raw writes; compressed clusters are\n"
	"  decompressed in -j N threads (default: the online CPUs). -O qcow2\n"
	"  options are those of the qcow2 writer.\n";

static int put_run(FILE *o, uint64_t off, const unsigned char *buf, size_t a,
		   size_t b)
{
	if (fseeko(o, (off_t)(off + a), SEEK_SET) ||
	    fwrite(buf + a, 1, b - a, o) != b - a)
		return -1;
	return 0;
}

/* Writes buf at off, leaving all-zero 4 KiB blocks as holes. Consecutive
 * data blocks go out as one run: a seek and a write per 4 KiB block cost
 * two syscalls each (make bench, export). */
static int put_sparse(FILE *o, uint64_t off, const unsigned char *buf, size_t n)
{
	size_t i = 0, run = 0;   /* [run, i): data not yet written */
	while (i < n) {
		size_t k = SPARSE - (size_t)((off + i) % SPARSE);
		if (k > n - i)
			k = n - i;
		if (ed_all_zero(buf + i, k)) {
			if (i > run && put_run(o, off, buf, run, i))
				return -1;
			run = i + k;
		}
		i += k;
	}
	return n > run ? put_run(o, off, buf, run, n) : 0;
}

/* The last extent zero_extent saw was compressed. */
static int saw_compressed;

/* Is [off, ...) known to read as zeros? Then *len is how far. *host is
 * where the bytes lie in the image file when they are plain data there
 * (not compressed, not from a backing file), else UINT64_MAX. */
static int zero_extent(struct ed_image *im, uint64_t off, uint64_t *len,
		       uint64_t *host)
{
	const uint32_t plain = HDI_QCOW2_MAP_DATA | HDI_QCOW2_MAP_ALLOCATED |
			       HDI_QCOW2_MAP_OFFSET;
	struct hdi_qcow2_extent x;
	*host = UINT64_MAX;
	saw_compressed = 0;
	if (!im->is_qcow2 || hdi_qcow2_map(&im->q, off, &x) < 0) {
		*len = UINT64_MAX;
		return 0;
	}
	*len = x.length;
	saw_compressed = (x.flags & HDI_QCOW2_MAP_COMPRESSED) != 0;
	if ((x.flags & (plain | HDI_QCOW2_MAP_COMPRESSED)) == plain && !x.depth)
		*host = x.host_offset;
	return (x.flags & HDI_QCOW2_MAP_ZERO) && !(x.flags & HDI_QCOW2_MAP_DATA);
}

/* Plain data is mapped from the image file rather than read through the
 * library, so the kernel copies it once (into OUT) instead of twice:
 * about a sixth less CPU for an export (make bench). NULL when it cannot be
 * mapped (past the file's end, Windows); then the caller reads. */
static const unsigned char *map_host(struct ed_image *im, uint64_t host,
				     size_t n, void **base, size_t *len)
{
	return edr_map(im->file.f, im->file.size, host, n, base, len);
}

/* -p: qemu-img's progress line, redrawn on one terminal line. */
static int progress;
static double shown = -1.0;

static void show(uint64_t done, uint64_t size, int last)
{
	double pct = size ? 100.0 * (double)done / (double)size : 100.0;
	if (!progress || (!last && pct - shown < 0.01))
		return;
	shown = pct;
	printf("    (%.2f/100%%)%s", last ? 100.0 : pct, last ? "\n" : "\r");
	fflush(stdout);
}

/* Threads for decompressing (-j; 0: the online CPUs). */
static unsigned jobs;
static const char *snapshot;

/* Threads put chunks at once: the lock keeps the FILE's seek and write
 * together (ext4 takes the file's lock for each write anyway). */
struct xput {
	FILE *o;
	const char *out;
	uint64_t size;
	pthread_mutex_t mu;
};

static int x_put(void *ctx, struct ed_image *im, uint64_t off,
		 const unsigned char *data, uint64_t host, size_t n);
static void x_progress(void *ctx, uint64_t off)
{
	show(off, ((struct xput *)ctx)->size, 0);
}

static unsigned online_cpus(void)
{
#ifdef _SC_NPROCESSORS_ONLN
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n > 0)
		return n > 64 ? 64u : (unsigned)n;
#endif
	return 1;
}

/* From off on, in worker threads (compressed data met, more than one
 * CPU to decompress on). */
static int copy_par(struct ed_image *im, FILE *o, const char *out, uint64_t off)
{
	struct xput p = { o, out, ed_disk_size(im), PTHREAD_MUTEX_INITIALIZER };
	struct ed_xp x;
	int r;
	memset(&x, 0, sizeof x);
	x.im = im;
	x.snap = snapshot;
	x.jobs = jobs ? jobs : online_cpus();
	x.size = p.size;
	x.ctx = &p;
	x.extent = zero_extent;
	x.put = x_put;
	x.progress = x_progress;
	r = ed_export_par(&x, off);
	pthread_mutex_destroy(&p.mu);
	return r;
}

static int copy_disk(struct ed_image *im, FILE *o, const char *out)
{
	unsigned char *buf = malloc(CHUNK);
	uint64_t size = ed_disk_size(im), off = 0, ext, host;
	int r = 0;
	show(0, size, 0);
	if (!buf)
		return ed_err(im->path, "out of memory");
	while (off < size && !r) {
		const unsigned char *data;
		void *base = NULL;
		size_t n, mlen = 0;
		if (zero_extent(im, off, &ext, &host)) {
			off += ext < size - off ? ext : size - off;
			continue;
		}
		if (saw_compressed && jobs != 1 && (jobs || online_cpus() > 1)) {
			free(buf);
			r = copy_par(im, o, out, off);
			if (!r)
				show(size, size, 1);
			return r;
		}
		n = (size_t)(size - off < CHUNK ? size - off : CHUNK);
		if (ext < n)
			n = (size_t)ext;
		data = map_host(im, host, n, &base, &mlen);
		if (!data) {
			r = ed_read(im, off, buf, n);
			if (r < 0) {
				ed_err_code(im, "convert: read", r);
				break;
			}
			data = buf;
		}
		if (put_sparse(o, off, data, n))
			r = ed_err(out, "write failed: %s", strerror(errno));
		edr_unmap(base, mlen);
		off += n;
		show(off, size, 0);
	}
	free(buf);
	if (!r)
		show(size, size, 1);
	return r;
}

/* Puts a chunk for the threaded copy, from any of its threads: plain
 * data is mapped (or read) from that thread's image. */
static int x_put(void *ctx, struct ed_image *im, uint64_t off,
		 const unsigned char *data, uint64_t host, size_t n)
{
	struct xput *p = ctx;
	unsigned char *tmp = NULL;
	void *base = NULL;
	size_t mlen = 0;
	int r = 0;
	if (!data && !(data = map_host(im, host, n, &base, &mlen))) {
		tmp = malloc(n);
		r = tmp ? ed_read(im, off, tmp, n) : HDI_ENOMEM;
		if (r < 0) {
			free(tmp);
			return ed_err_code(im, "convert: read", r), 1;
		}
		data = tmp;
	}
	pthread_mutex_lock(&p->mu);
	if (put_sparse(p->o, off, data, n))
		r = ed_err(p->out, "write failed: %s", strerror(errno));
	pthread_mutex_unlock(&p->mu);
	edr_unmap(base, mlen);
	free(tmp);
	return r;
}

static int to_raw(struct ed_image *im, const char *out)
{
	struct file_dev fd;
	FILE *o;
	int r;
	if (ed_create_open(&fd, out))
		return 1;
	o = fd.f;
	r = copy_disk(im, o, out);
	if (!r && (fflush(o) || ftruncate(fileno(o), (off_t)ed_disk_size(im))))
		r = ed_err(out, "cannot size the output: %s", strerror(errno));
	if (file_dev_close(&fd) && !r)
		r = ed_err(out, "close failed: %s", strerror(errno));
	return r ? 1 : 0;
}

/* Writing OUT must not destroy what is being read: the input itself or a
 * file of its backing chain, however OUT spells it. */
static int refuse_own_input(struct ed_image *im, const char *out)
{
	struct file_dev *file;
	const char *path;
	hdi_qcow2_t *q;
	int d = ed_chain_find(im, out);
	if (d < 0)
		return 0;
	if (d == 0)
		return ed_err(im->path, "convert: the output '%s' is the input image itself", out);
	ed_chain_get(im, (unsigned)d, &path, &file, &q);
	return ed_err(im->path, "convert: the output '%s' is the input's backing file '%s'",
		      out, path);
}

static const char *find_format(int argc, char **argv)
{
	const char *fmt = NULL;
	int i;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-O") && i + 1 < argc)
			fmt = argv[++i];
		else if (!strncmp(argv[i], "-O", 2) && argv[i][2])
			fmt = argv[i] + 2;
	}
	return fmt ? fmt : "raw";
}

/* raw: OUT anywhere, plus -O raw and --snapshot. */
static int parse_raw(const char *image, int argc, char **argv,
		     const char **out, const char **snap)
{
	int i;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-O") && i + 1 < argc)
			i++;
		else if (!strncmp(argv[i], "-O", 2) && argv[i][2])
			;
		else if (!strcmp(argv[i], "-p"))
			progress = 1;
		else if (!strncmp(argv[i], "-j", 2) && (argv[i][2] || i + 1 < argc)) {
			const char *v = argv[i][2] ? argv[i] + 2 : argv[++i];
			char *end;
			unsigned long n = strtoul(v, &end, 10);
			if (!*v || *end || n < 1 || n > 1024)
				return ed_err(image, "convert: -j takes a thread count from 1 to 1024, not '%s'", v);
			jobs = (unsigned)n;
		}
		else if (edr_snapshot_opt(argc, argv, &i, snap) == 1)
			;
		else if (!*out && argv[i][0] != '-')
			*out = argv[i];
		else
			return ed_err(image, "convert: unexpected argument '%s' (try --help)", argv[i]);
	}
	return 0;
}

/* qcow2: the writer parses its own options, so OUT comes first (or last). */
static int parse_qcow2(int argc, char **argv, const char **out, const char **snap)
{
	int i;
	if (argc > 1 && argv[1][0] != '-')
		*out = argv[1];
	else if (argc > 1 && argv[argc - 1][0] != '-')
		*out = argv[argc - 1];
	for (i = 1; i < argc; i++)
		if (edr_snapshot_opt(argc, argv, &i, snap) != 1)
			continue;
	return 0;
}

int ed_cmd_convert(const char *image, int argc, char **argv)
{
	struct ed_image im;
	const char *snap = NULL, *out = NULL, *fmt;
	int r;
	if (ed_wants_help(argc, argv)) {
		fputs(convert_usage, stdout);
		return ed_convert_to_qcow2(NULL, NULL, argc, argv);
	}
	fmt = find_format(argc, argv);
	if (strcmp(fmt, "raw") && strcmp(fmt, "qcow2"))
		return ed_err(image, "convert: unknown output format '%s'", fmt);
	if (!strcmp(fmt, "raw") ? parse_raw(image, argc, argv, &out, &snap)
				: parse_qcow2(argc, argv, &out, &snap))
		return 1;
	if (!out)
		return ed_err(image, "convert: need an output file (try --help)");
	/* a copy must not change under it: like qemu-img convert */
	if (edr_open_flags(&im, image, snap, ED_OPEN_STABLE))
		return 1;
	ed_force_share = 0;   /* -U is for the input; OUT is locked for writing */
	snapshot = snap;
	if (refuse_own_input(&im, out))
		r = 1;
	else if (!strcmp(fmt, "qcow2"))
		r = ed_convert_to_qcow2(&im, out, argc, argv);   /* locks OUT too */
	else
		r = to_raw(&im, out);
	if (ed_close(&im))
		r = 1;
	return r;
}
