/* tools/cmd_check.c: edqcow2 check [--json] [--repair leaks|all]: qemu-img
 * check's counts, human and JSON output, and exit codes (0 clean, 1 could
 * not check, 2 corruptions, 3 leaks only, 63 format without checks). */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "ed_read.h"

static const char *check_usage =
	"usage: edqcow2 IMAGE check [--json] [--repair leaks|all]\n"
	"  Checks every reference to every cluster against the stored refcounts,\n"
	"  as qemu-img check does, with the same counts and exit codes:\n"
	"  0 no errors, 1 the check could not be completed, 2 corruptions,\n"
	"  3 leaked clusters only, 63 the image is not qcow2.\n"
	"  --json (or --output=json): the fields of qemu-img check --output=json.\n"
	"  --repair leaks (-r leaks): free leaked clusters.\n"
	"  --repair all (-r all): also fix corruptions; rebuilds the refcount\n"
	"      table and blocks when they are damaged. The image is checked\n"
	"      again afterwards and that result is reported.\n"
	"  --workspace SIZE: the library's workspace (default 64M; a smaller one\n"
	"      checks in more passes).\n";

struct check_opts {
	int json;
	uint32_t repair;
	uint64_t ws_size;
};

static int parse_repair(const char *image, const char *v, uint32_t *out)
{
	if (v && !strcmp(v, "leaks"))
		*out = HDI_QCOW2_REPAIR_LEAKS;
	else if (v && !strcmp(v, "all"))
		*out = HDI_QCOW2_REPAIR_ALL;
	else
		return ed_err(image, "check: --repair takes 'leaks' or 'all'");
	return 0;
}

static int parse(const char *image, int argc, char **argv, struct check_opts *o)
{
	int i, r;
	memset(o, 0, sizeof(*o));
	o->ws_size = ED_WORKSPACE;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		r = edr_json_opt(argc, argv, &i, &o->json);
		if (r > 0)
			continue;
		if (r < 0)
			return ed_err(image, "check: bad --output value");
		if (!strcmp(a, "--repair") || !strcmp(a, "-r")) {
			if (parse_repair(image, i + 1 < argc ? argv[++i] : NULL, &o->repair))
				return 1;
		} else if (!strncmp(a, "--repair=", 9)) {
			if (parse_repair(image, a + 9, &o->repair))
				return 1;
		} else if (!strcmp(a, "--workspace") && i + 1 < argc) {
			if (ed_parse_size(argv[++i], &o->ws_size) ||
			    o->ws_size < HDI_QCOW2_WORKSPACE_MIN || o->ws_size > (1ull << 32))
				return ed_err(image, "check: bad workspace size '%s'", argv[i]);
		} else {
			return ed_err(image, "check: unexpected argument '%s' (try --help)", a);
		}
	}
	return 0;
}

static void json_field(FILE *o, const char *name, uint64_t v, int always)
{
	if (v || always)
		fprintf(o, "    \"%s\": %" PRIu64 ",\n", name, v);
}

/* qemu-img prints its QDict in hash order; so do we. */
static void dump_json(FILE *o, const char *image, const struct hdi_qcow2_check_result *c)
{
	fprintf(o, "{\n");
	json_field(o, "image-end-offset", c->image_end_offset, 0);
	json_field(o, "compressed-clusters", c->compressed_clusters, 0);
	json_field(o, "total-clusters", c->total_clusters, 0);
	json_field(o, "corruptions", c->corruptions, 0);
	json_field(o, "corruptions-fixed", c->corruptions_fixed, 0);
	json_field(o, "check-errors", c->check_errors, 1);
	json_field(o, "leaks", c->leaks, 0);
	json_field(o, "leaks-fixed", c->leaks_fixed, 0);
	json_field(o, "allocated-clusters", c->allocated_clusters, 0);
	fprintf(o, "    \"filename\": ");
	edr_json_str(o, image);
	fprintf(o, ",\n    \"format\": \"qcow2\"%s\n", c->fragmented_clusters ? "," : "");
	if (c->fragmented_clusters)
		fprintf(o, "    \"fragmented-clusters\": %" PRIu64 "\n", c->fragmented_clusters);
	fprintf(o, "}\n");
}

static void dump_human(FILE *o, const struct hdi_qcow2_check_result *c)
{
	if (!(c->corruptions || c->leaks || c->check_errors)) {
		fprintf(o, "No errors were found on the image.\n");
	} else {
		if (c->corruptions)
			fprintf(o, "\n%" PRIu64 " errors were found on the image.\n"
				   "Data may be corrupted, or further writes to the image "
				   "may corrupt it.\n", c->corruptions);
		if (c->leaks)
			fprintf(o, "\n%" PRIu64 " leaked clusters were found on the image.\n"
				   "This means waste of disk space, but no harm to data.\n",
				c->leaks);
		if (c->check_errors)
			fprintf(o, "\n%" PRIu64 " internal errors have occurred during the check.\n",
				c->check_errors);
	}
	if (c->total_clusters && c->allocated_clusters)
		fprintf(o, "%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, "
			   "%0.2f%% compressed clusters\n",
			c->allocated_clusters, c->total_clusters,
			c->allocated_clusters * 100.0 / c->total_clusters,
			c->fragmented_clusters * 100.0 / c->allocated_clusters,
			c->compressed_clusters * 100.0 / c->allocated_clusters);
	if (c->image_end_offset)
		fprintf(o, "Image end offset: %" PRIu64 "\n", c->image_end_offset);
}

struct check_img {
	struct file_dev file;
	hdi_qcow2_t q;
	void *ws;
	int qopen;
};

/* Opens without the write path: a check must see the image as it is (no
 * dirty-image repair, bitmaps kept), and a repair writes only what it fixes. */
static int check_open(struct check_img *ci, const char *image,
		      const struct check_opts *o)
{
	struct hdi_qcow2_opts qo;
	unsigned char m[4];
	int r;
	memset(ci, 0, sizeof(*ci));
	r = file_dev_open(&ci->file, image, o->repair ? "r+b" : "rb", 0);
	if (r)
		return ed_err(image, "cannot open: %s", strerror(errno));
	if (ci->file.size < 4 || hdi_bdev_read(&ci->file.bdev, 0, m, 4) ||
	    !hdi_qcow2_probe(m, 4)) {
		ed_err(image, "This image format does not support checks");
		return 63;
	}
	if (ed_lock(image, &ci->file, (o->repair ? ED_LOCK_RDWR : 0) | ED_LOCK_KEEP))
		return 1;
	ci->ws = malloc((size_t)o->ws_size);
	if (!ci->ws)
		return ed_err(image, "out of memory");
	memset(&qo, 0, sizeof qo);
	qo.flags = HDI_QCOW2_NO_BACKING;
	qo.workspace = ci->ws;
	qo.workspace_size = (size_t)o->ws_size;
	r = hdi_qcow2_open(&ci->q, &ci->file.bdev, &qo);
	if (r) {
		const char *d = hdi_qcow2_errmsg(&ci->q);
		return ed_err(image, "cannot open image: %s%s%s", hdi_strerror(r),
			      *d ? ": " : "", d);
	}
	ci->qopen = 1;
	return 0;
}

static int check_close(struct check_img *ci, const char *image, int rc)
{
	int r = HDI_OK;
	if (ci->qopen)
		r = hdi_qcow2_close(&ci->q);
	if (ci->file.f && file_dev_close(&ci->file) && r == HDI_OK)
		r = HDI_EIO;
	free(ci->ws);
	if (r && !rc)
		rc = ed_err(image, "close: %s", hdi_strerror(r));
	return rc;
}

/* qemu-img check: a repair that fixed anything is followed by a second,
 * read-only check, whose counts are reported with the first one's fixes. */
static int run_check(struct check_img *ci, const char *image,
		     const struct check_opts *o, struct hdi_qcow2_check_result *res)
{
	uint64_t cf, lf;
	int r = hdi_qcow2_check(&ci->q, o->repair, res);
	if (r < 0 || !(res->corruptions_fixed || res->leaks_fixed))
		return r;
	cf = res->corruptions_fixed;
	lf = res->leaks_fixed;
	if (!o->json)
		printf("The following inconsistencies were found and repaired:\n\n"
		       "    %" PRIu64 " leaked clusters\n"
		       "    %" PRIu64 " corruptions\n\n"
		       "Double checking the fixed image now...\n", lf, cf);
	r = hdi_qcow2_check(&ci->q, 0, res);
	res->corruptions_fixed = cf;
	res->leaks_fixed = lf;
	(void)image;
	return r;
}

int ed_cmd_check(const char *image, int argc, char **argv)
{
	struct check_opts o;
	struct check_img ci;
	struct hdi_qcow2_check_result res;
	int r, rc;
	if (ed_wants_help(argc, argv)) {
		fputs(check_usage, stdout);
		return 0;
	}
	if (parse(image, argc, argv, &o))
		return 1;
	rc = check_open(&ci, image, &o);
	if (rc)
		return check_close(&ci, image, rc);
	memset(&res, 0, sizeof res);
	r = run_check(&ci, image, &o, &res);
	if (r == HDI_OK) {
		if (o.json)
			dump_json(stdout, image, &res);
		else
			dump_human(stdout, &res);
	}
	fflush(stdout);
	if (r < 0) {
		const char *d = hdi_qcow2_errmsg(&ci.q);
		rc = ed_err(image, "check failed: %s%s%s", hdi_strerror(r),
			    *d ? ": " : "", d);
	} else if (res.check_errors) {
		rc = ed_err(image, "check failed");
	} else {
		rc = res.corruptions ? 2 : res.leaks ? 3 : 0;
	}
	return check_close(&ci, image, rc);
}
