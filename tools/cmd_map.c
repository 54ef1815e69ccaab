/* tools/cmd_map.c: edqcow2 map: the allocation map of the virtual disk,
 * extent by extent as qemu-img map prints it (human and JSON), including
 * what the host file system says about holes under raw and preallocated
 * data. */
#define _FILE_OFFSET_BITS 64
#include <inttypes.h>
#include <string.h>
#include "ed_read.h"

struct me {                      /* qemu-img map's MapEntry */
	uint64_t start, length, offset;
	unsigned depth;
	int present, zero, data, compressed, has_offset;
	const char *file;
};

struct map_ctx {
	struct ed_image *im;
	int json, nout;
	struct me cur;
	signed char prealloc[HDI_QCOW2_MAX_CHAIN + 1];   /* -1: not probed */
};

static int mergeable(const struct me *a, const struct me *b)
{
	return a->length && a->zero == b->zero && a->data == b->data &&
	       a->compressed == b->compressed && a->depth == b->depth &&
	       a->present == b->present && a->has_offset == b->has_offset &&
	       (!a->has_offset || (a->offset + a->length == b->offset &&
				   !strcmp(a->file, b->file)));
}

static const char *tf(int v) { return v ? "true" : "false"; }

static void dump(struct map_ctx *m, const struct me *e)
{
	if (m->json) {
		printf("%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64
		       ", \"depth\": %u, \"present\": %s, \"zero\": %s, \"data\": %s"
		       ", \"compressed\": %s", m->nout ? ",\n" : "[", e->start,
		       e->length, e->depth, tf(e->present), tf(e->zero), tf(e->data),
		       tf(e->compressed));
		if (e->has_offset)
			printf(", \"offset\": %" PRIu64, e->offset);
		putchar('}');
	} else if (e->data && e->has_offset && !e->zero) {
		printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n",
		       e->start, e->length, e->offset, e->file);
	} else if (e->compressed) {
		printf("%#-16" PRIx64 "%#-16" PRIx64 "%-16s%s\n",
		       e->start, e->length, "compressed", e->file);
	}
	m->nout++;
}

static void emit(struct map_ctx *m, const struct me *e)
{
	if (mergeable(&m->cur, e)) {
		m->cur.length += e->length;
		return;
	}
	if (m->cur.length)
		dump(m, &m->cur);
	m->cur = *e;
}

static int prealloc_at(struct map_ctx *m, unsigned depth, hdi_qcow2_t *q,
		       struct file_dev *fd)
{
	if (depth > HDI_QCOW2_MAX_CHAIN)
		return 0;
	if (m->prealloc[depth] < 0)
		m->prealloc[depth] = (signed char)edr_detect_prealloc(q, fd);
	return m->prealloc[depth];
}

/* Data with a host offset in a raw file, or in a qcow2 file detected as
 * metadata-preallocated: split at the file's holes, which read as zeros. */
static void refine(struct map_ctx *m, struct me *e)
{
	const char *path;
	struct file_dev *fd;
	hdi_qcow2_t *q;
	int data;
	uint64_t len;
	if (ed_chain_get(m->im, e->depth, &path, &fd, &q) < 0)
		return;
	e->file = path;
	if (!e->has_offset || !e->data || e->zero)
		return;
	if (q && !prealloc_at(m, e->depth, q, fd))
		return;
	if (e->offset >= fd->size) {
		e->zero = 1;
	} else {
		edr_file_run(fd->f, fd->size, e->offset, e->length, &data, &len);
		e->length = len;
		e->zero = !data;
	}
	if (!q && e->zero)
		e->data = 0;   /* raw: a hole is zeros, not data */
}

static int map_qcow2(struct map_ctx *m, uint64_t size)
{
	struct hdi_qcow2_extent x;
	uint64_t off = 0;
	int r;
	while (off < size) {
		struct me e;
		r = hdi_qcow2_map(&m->im->q, off, &x);
		if (r < 0)
			return r;
		memset(&e, 0, sizeof e);
		e.start = off;
		e.length = x.length < size - off ? x.length : size - off;
		e.depth = x.depth;
		e.present = !!(x.flags & HDI_QCOW2_MAP_ALLOCATED);
		e.zero = !!(x.flags & HDI_QCOW2_MAP_ZERO);
		e.data = !!(x.flags & HDI_QCOW2_MAP_DATA);
		e.compressed = !!(x.flags & HDI_QCOW2_MAP_COMPRESSED);
		e.has_offset = !!(x.flags & HDI_QCOW2_MAP_OFFSET);
		e.offset = x.host_offset;
		if (!e.length)
			return HDI_ECORRUPT;
		refine(m, &e);
		emit(m, &e);
		off += e.length;
	}
	return 0;
}

static void map_raw(struct map_ctx *m, uint64_t size)
{
	uint64_t off = 0, len;
	int data;
	while (off < size) {
		struct me e;
		edr_file_run(m->im->file.f, m->im->file.size, off, size - off, &data, &len);
		memset(&e, 0, sizeof e);
		e.start = e.offset = off;
		e.length = len;
		e.present = e.has_offset = 1;
		e.data = data;
		e.zero = !data;
		e.file = m->im->path;
		emit(m, &e);
		off += len;
	}
}

static const char *map_usage =
	"usage: edqcow2 IMAGE map [--json] [--snapshot ID|NAME]\n"
	"  Which ranges of the virtual disk hold data, read as zeros or come\n"
	"  from the backing file, with host offsets. Human output lists data\n"
	"  (and compressed) ranges like qemu-img map; --json (or\n"
	"  --output=json) prints every extent with start, length, depth,\n"
	"  present, zero, data, compressed and offset.\n";

int ed_cmd_map(const char *image, int argc, char **argv)
{
	struct ed_image im;
	struct map_ctx m;
	const char *snap = NULL;
	int i, r = 0;
	if (ed_wants_help(argc, argv)) {
		fputs(map_usage, stdout);
		return 0;
	}
	memset(&m, 0, sizeof m);
	memset(m.prealloc, -1, sizeof m.prealloc);
	for (i = 1; i < argc; i++) {
		int k = edr_json_opt(argc, argv, &i, &m.json);
		if (!k)
			k = edr_snapshot_opt(argc, argv, &i, &snap);
		if (k != 1)
			return ed_err(image, "map: bad argument '%s' (try --help)", argv[i]);
	}
	if (edr_open(&im, image, snap))
		return 1;
	m.im = &im;
	if (!m.json)
		printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
	if (im.is_qcow2)
		r = map_qcow2(&m, ed_disk_size(&im));
	else
		map_raw(&m, ed_disk_size(&im));
	if (m.cur.length || (m.json && !ed_disk_size(&im)))
		dump(&m, &m.cur);   /* qemu prints one empty extent for size 0 */
	if (m.json)
		printf(m.nout ? "]\n" : "[]\n");
	if (r < 0) {
		fflush(stdout);
		ed_err_code(&im, "map", r);
		ed_close(&im);
		return 1;
	}
	return ed_close(&im) ? 1 : 0;
}
