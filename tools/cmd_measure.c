/* tools/cmd_measure.c: `measure`, qemu-img measure: the file size a new
 * qcow2 (or raw) image needs, for a given virtual size or to hold a copy
 * of an image; the arithmetic is the library's (hdi_qcow2_measure). */
#define _FILE_OFFSET_BITS 64
#include <inttypes.h>
#include <string.h>
#include "ed_read.h"
#include "ed_qcow2_opts.h"
#include "hdi/qcow2_measure.h"

static const char measure_help[] =
	"usage: edqcow2 measure [--output=human|json] [-O qcow2|raw] [-o OPTS]\n"
	"                       (--size SIZE | [-f FMT] [-l SNAPSHOT] IMAGE)\n"
	"       edqcow2 IMAGE measure [--output=json] [-O qcow2|raw] [-o OPTS]\n"
	"Prints the file size a new image needs: \"required size\" for the given\n"
	"virtual size (empty) or for a copy of IMAGE's virtual disk (its data\n"
	"clusters), and \"fully allocated size\" with every cluster allocated;\n"
	"for a qcow2 copy of a qcow2 image also \"bitmaps size\". The numbers are\n"
	"those of qemu-img measure. The output format is raw unless -O qcow2;\n"
	"-o takes create's qcow2 options (cluster_size, refcount_bits,\n"
	"extended_l2, compat, preallocation, backing_file ...).\n";

struct measure_args {
	struct ed_qcow2_opts c;
	const char *size_arg, *snap;
	int json;
};

static int parse(const char *image, int argc, char **argv,
		 struct measure_args *a)
{
	int i, r;
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		r = edr_json_opt(argc, argv, &i, &a->json);
		if (r < 0)
			return ed_err(image, "measure: --output must be json or human");
		if (r)
			continue;
		if (!strcmp(s, "--size") && i + 1 < argc) {
			a->size_arg = argv[++i];
			continue;
		}
		if (!strncmp(s, "--size=", 7)) {
			a->size_arg = s + 7;
			continue;
		}
		if (edr_snapshot_opt(argc, argv, &i, &a->snap) == 1)
			continue;
		r = ed_qcow2_opts_parse(image, &a->c, argc, argv, &i);
		if (r < 0)
			return 1;
		if (!r)
			return ed_err(image, "measure: unexpected argument '%s' (try --help)", s);
	}
	return 0;
}

static void print(const struct measure_args *a, const struct hdi_qcow2_measure_result *m,
		  int bitmaps)
{
	if (a->json) {
		printf("{\n");
		if (bitmaps)
			printf("    \"bitmaps\": %" PRIu64 ",\n", m->bitmaps);
		printf("    \"required\": %" PRIu64 ",\n"
		       "    \"fully-allocated\": %" PRIu64 "\n}\n",
		       m->required, m->fully_allocated);
		return;
	}
	printf("required size: %" PRIu64 "\nfully allocated size: %" PRIu64 "\n",
	       m->required, m->fully_allocated);
	if (bitmaps)
		printf("bitmaps size: %" PRIu64 "\n", m->bitmaps);
}

/* The input's data, counted in the new image's clusters, and its
 * persistent bitmaps. Returns 0 or prints and returns 1. */
static int count_input(struct ed_image *im, const struct ed_qcow2_opts *c,
		       struct hdi_qcow2_measure_result *m, int *bitmaps)
{
	uint64_t size = ed_disk_size(im), off = 0, len;
	struct edr_bs bs;
	uint32_t cb = c->o.cluster_bits, i;
	struct hdi_qcow2_info_result in;
	unsigned st;
	int r;
	/* the new image's backing file may share nothing with the input */
	if (c->backing) {
		hdi_qcow2_measure_data(m, cb, 0, size);
		off = size;
	}
	edr_bs_init(&bs, im);
	while (off < size) {
		r = edr_block_status(&bs, off, size - off, &st, &len);
		if (r < 0)
			return ed_err_code(im, "measure: Unable to get block status", r);
		if (!(st & EDR_ST_ZERO) && (st & EDR_ST_DATA) && (st & EDR_ST_ALLOC))
			hdi_qcow2_measure_data(m, cb, off, len);
		off += len;
	}
	/* shown when both sides can hold bitmaps: qcow2 v3 in and out */
	*bitmaps = im->is_qcow2 && c->o.version >= 3 &&
		   hdi_qcow2_info(&im->q, &in) == 0 && in.version >= 3;
	if (!*bitmaps)
		return 0;
	for (i = 0; i < in.nb_bitmaps; i++) {
		struct hdi_qcow2_bitmap b;
		if (hdi_qcow2_bitmap_get(&im->q, i, &b) < 0)
			break;
		hdi_qcow2_measure_bitmap(m, cb, size, b.granularity_bits,
					 strlen(b.name));
	}
	return 0;
}

static int measure_raw(struct measure_args *a, uint64_t size)
{
	struct hdi_qcow2_measure_result m;
	hdi_qcow2_measure_init(&m);
	m.required = m.fully_allocated = (size + 511u) & ~(uint64_t)511u;
	print(a, &m, 0);
	return 0;
}

int ed_cmd_measure(const char *image, int argc, char **argv)
{
	struct measure_args a;
	struct hdi_qcow2_measure_result m;
	struct ed_image im;
	const char *who = image ? image : "measure";
	uint64_t size = 0;
	int bitmaps = 0, r, raw;
	if (ed_wants_help(argc, argv)) {
		fputs(measure_help, stdout);
		return 0;
	}
	memset(&a, 0, sizeof a);
	ed_qcow2_opts_init(&a.c);
	a.c.format = "raw";          /* qemu-img measure's default output */
	if (parse(who, argc, argv, &a))
		return 1;
	if (a.size_arg && image)
		return ed_err(who, "--size N cannot be used together with a filename.");
	if (!a.size_arg && !image)
		return ed_err(who, "Either --size N or one filename must be specified.");
	if (a.size_arg && ed_parse_size(a.size_arg, &size))
		return ed_err(who, "Invalid image size specified: '%s'", a.size_arg);
	raw = !strcmp(a.c.format, "raw");
	if (raw && (a.c.set & ~(ED_SET_SIZE | ED_SET_PREALLOC)))
		return ed_err(who, "measure: qcow2 options given for a raw output (-O qcow2?)");
	if (!raw && a.c.o.version < 3 && a.c.o.refcount_bits != 16)
		return ed_err(who, "Different refcount widths than 16 bits require compatibility level 1.1 or above (use compat=1.1 or greater)");
	if (!raw && a.c.o.extended_l2 && a.c.o.cluster_bits < 14)
		return ed_err(who, "Extended L2 entries are only supported with cluster sizes of at least 16384 bytes");
	hdi_qcow2_measure_init(&m);
	if (image) {
		if (edr_open(&im, image, a.snap))
			return 1;
		size = ed_disk_size(&im);
		r = raw ? 0 : count_input(&im, &a.c, &m, &bitmaps);
		ed_close(&im);
		if (r)
			return 1;
	}
	if (raw)
		return measure_raw(&a, size);
	a.c.o.size = size;
	if (hdi_qcow2_measure(&m, &a.c.o, !strcmp(a.c.prealloc, "full") ||
				  !strcmp(a.c.prealloc, "falloc")))
		return ed_err(who, "The image size is too large (try using a larger cluster size)");
	print(&a, &m, bitmaps);
	return 0;
}
