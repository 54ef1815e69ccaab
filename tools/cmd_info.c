/* tools/cmd_info.c: edqcow2 info, map and snapshot list: what an image is
 * and where its data lives, in qemu-img's human and JSON forms. */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ed_read.h"

/* ---- info --------------------------------------------------------------- */
static const char *info_usage =
	"usage: edqcow2 IMAGE info [--json]\n"
	"  Format, sizes, backing file, features, snapshots and bitmaps.\n"
	"  --json (or --output=json): the fields of qemu-img info --output=json.\n";

static void json_snapshots(FILE *o, hdi_qcow2_t *q, uint32_t n, const char *ind)
{
	struct hdi_qcow2_snapshot sn;
	uint32_t i;
	fprintf(o, "%s\"snapshots\": [\n", ind);
	for (i = 0; i < n; i++) {
		if (hdi_qcow2_snapshot_get(q, i, &sn) < 0)
			break;
		fprintf(o, "%s    {\n", ind);
		if (sn.icount_present)
			fprintf(o, "%s        \"icount\": %" PRIu64 ",\n", ind, sn.icount);
		fprintf(o, "%s        \"vm-clock-nsec\": %" PRIu64 ",\n", ind,
			sn.vm_clock_nsec % 1000000000u);
		fprintf(o, "%s        \"name\": ", ind);
		edr_json_str(o, sn.name);
		fprintf(o, ",\n%s        \"date-sec\": %" PRIu64 ",\n", ind, sn.date_sec);
		fprintf(o, "%s        \"date-nsec\": %" PRIu32 ",\n", ind, sn.date_nsec);
		fprintf(o, "%s        \"vm-clock-sec\": %" PRIu64 ",\n", ind,
			sn.vm_clock_nsec / 1000000000u);
		fprintf(o, "%s        \"id\": ", ind);
		edr_json_str(o, sn.id);
		fprintf(o, ",\n%s        \"vm-state-size\": %" PRIu64 "\n", ind, sn.vm_state_size);
		fprintf(o, "%s    }%s\n", ind, i + 1 < n ? "," : "");
	}
	fprintf(o, "%s],\n", ind);
}

static void json_bitmaps(FILE *o, hdi_qcow2_t *q, uint32_t n)
{
	struct hdi_qcow2_bitmap b;
	uint32_t i;
	fprintf(o, "            \"bitmaps\": [\n");
	for (i = 0; i < n && hdi_qcow2_bitmap_get(q, i, &b) == HDI_OK; i++) {
		int first = 1;
		fprintf(o, "                {\n                    \"flags\": [\n");
		if (b.flags & HDI_QCOW2_BITMAP_IN_USE) {
			fprintf(o, "                        \"in-use\"");
			first = 0;
		}
		if (b.flags & HDI_QCOW2_BITMAP_AUTO)
			fprintf(o, "%s                        \"auto\"", first ? "" : ",\n");
		fprintf(o, "%s                    ],\n", (b.flags & 3u) ? "\n" : "");
		fprintf(o, "                    \"name\": ");
		edr_json_str(o, b.name);
		fprintf(o, ",\n                    \"granularity\": %" PRIu64 "\n",
			(uint64_t)1 << b.granularity_bits);
		fprintf(o, "                }%s\n", i + 1 < n ? "," : "");
	}
	fprintf(o, "            ],\n");
}

static const char *bool_s(uint64_t v) { return v ? "true" : "false"; }

static void json_specific(FILE *o, hdi_qcow2_t *q, const struct hdi_qcow2_info_result *in)
{
	fprintf(o, "    \"format-specific\": {\n        \"type\": \"qcow2\",\n"
		   "        \"data\": {\n");
	fprintf(o, "            \"compat\": \"%s\",\n", in->version == 2 ? "0.10" : "1.1");
	fprintf(o, "            \"compression-type\": \"%s\",\n",
		in->compression_type ? "zstd" : "zlib");
	if (in->version == 2) {
		fprintf(o, "            \"refcount-bits\": %u\n", in->refcount_bits);
	} else {
		fprintf(o, "            \"lazy-refcounts\": %s,\n",
			bool_s(in->compatible & HDI_QCOW2_COMPAT_LAZY_REFCOUNTS));
		if (in->nb_bitmaps)
			json_bitmaps(o, q, in->nb_bitmaps);
		fprintf(o, "            \"refcount-bits\": %u,\n", in->refcount_bits);
		fprintf(o, "            \"corrupt\": %s,\n",
			bool_s(in->incompatible & HDI_QCOW2_INCOMPAT_CORRUPT));
		fprintf(o, "            \"extended-l2\": %s\n",
			bool_s(in->incompatible & HDI_QCOW2_INCOMPAT_EXTL2));
	}
	fprintf(o, "        }\n    },\n");
}

static void info_json(FILE *o, struct ed_image *im, const struct hdi_qcow2_info_result *in,
		      int64_t actual)
{
	fprintf(o, "{\n");
	if (in && in->nb_snapshots)
		json_snapshots(o, &im->q, in->nb_snapshots, "    ");
	if (in && in->has_backing && in->backing_format[0]) {
		fprintf(o, "    \"backing-filename-format\": ");
		edr_json_str(o, in->backing_format);
		fprintf(o, ",\n");
	}
	fprintf(o, "    \"virtual-size\": %" PRIu64 ",\n    \"filename\": ",
		in ? in->virtual_size : ed_disk_size(im));
	edr_json_str(o, im->path);
	if (in)
		fprintf(o, ",\n    \"cluster-size\": %u", 1u << in->cluster_bits);
	fprintf(o, ",\n    \"format\": \"%s\",\n", in ? "qcow2" : "raw");
	if (actual >= 0)
		fprintf(o, "    \"actual-size\": %" PRId64 ",\n", actual);
	if (in)
		json_specific(o, &im->q, in);
	if (in && in->has_backing) {
		char *full = ed_resolve(im->path, in->backing_file);
		fprintf(o, "    \"full-backing-filename\": ");
		edr_json_str(o, full ? full : in->backing_file);
		fprintf(o, ",\n    \"backing-filename\": ");
		edr_json_str(o, in->backing_file);
		fprintf(o, ",\n");
		free(full);
	}
	fprintf(o, "    \"dirty-flag\": %s\n}\n",
		bool_s(in && (in->incompatible & HDI_QCOW2_INCOMPAT_DIRTY)));
}

static void human_snapshots(FILE *o, hdi_qcow2_t *q, uint32_t n);

static void info_human(FILE *o, struct ed_image *im, const struct hdi_qcow2_info_result *in,
		       int64_t actual)
{
	char sz[32];
	uint64_t vs = in ? in->virtual_size : ed_disk_size(im);
	edr_human_size(sz, sizeof sz, vs);
	fprintf(o, "image: %s\nfile format: %s\nvirtual size: %s (%" PRIu64 " bytes)\n",
		im->path, in ? "qcow2" : "raw", sz, vs);
	if (actual >= 0) {
		edr_human_size(sz, sizeof sz, (uint64_t)actual);
		fprintf(o, "disk size: %s\n", sz);
	}
	if (!in)
		return;
	fprintf(o, "cluster_size: %u\n", 1u << in->cluster_bits);
	if (in->has_backing) {
		fprintf(o, "backing file: %s\n", in->backing_file);
		if (in->backing_format[0])
			fprintf(o, "backing file format: %s\n", in->backing_format);
	}
	if (in->nb_snapshots)
		human_snapshots(o, &im->q, in->nb_snapshots);
	fprintf(o, "Format specific information:\n    compat: %s\n"
		   "    compression type: %s\n",
		in->version == 2 ? "0.10" : "1.1", in->compression_type ? "zstd" : "zlib");
	if (in->version == 3)
		fprintf(o, "    lazy refcounts: %s\n",
			bool_s(in->compatible & HDI_QCOW2_COMPAT_LAZY_REFCOUNTS));
	fprintf(o, "    refcount bits: %u\n", in->refcount_bits);
	if (in->version == 3)
		fprintf(o, "    corrupt: %s\n    extended l2: %s\n",
			bool_s(in->incompatible & HDI_QCOW2_INCOMPAT_CORRUPT),
			bool_s(in->incompatible & HDI_QCOW2_INCOMPAT_EXTL2));
	if (in->incompatible & HDI_QCOW2_INCOMPAT_DIRTY)
		fprintf(o, "dirty flag: true\n");
}

int ed_cmd_info(const char *image, int argc, char **argv)
{
	struct ed_image im;
	struct hdi_qcow2_info_result in;
	int json = 0, i, r;
	int64_t actual;
	if (ed_wants_help(argc, argv)) {
		fputs(info_usage, stdout);
		return 0;
	}
	for (i = 1; i < argc; i++)
		if (edr_json_opt(argc, argv, &i, &json) != 1)
			return ed_err(image, "info: unexpected argument '%s'", argv[i]);
	if (ed_open(&im, image, ED_OPEN_NO_BACKING | ED_OPEN_NO_IO))   /* like qemu-img info */
		return 1;
	if (im.is_qcow2) {
		r = hdi_qcow2_info(&im.q, &in);
		if (r < 0) {
			ed_err_code(&im, "info", r);
			ed_close(&im);
			return 1;
		}
	}
	actual = edr_allocated(im.file.f);
	if (json)
		info_json(stdout, &im, im.is_qcow2 ? &in : NULL, actual);
	else
		info_human(stdout, &im, im.is_qcow2 ? &in : NULL, actual);
	return ed_close(&im) ? 1 : 0;
}

/* ---- snapshot ----------------------------------------------------------- */
static void human_snapshots(FILE *o, hdi_qcow2_t *q, uint32_t n)
{
	struct hdi_qcow2_snapshot sn;
	uint32_t i;
	fprintf(o, "Snapshot list:\n%-10s%-17s%8s%20s%13s%11s%12s\n",
		"ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT", "DISK SIZE");
	for (i = 0; i < n && hdi_qcow2_snapshot_get(q, i, &sn) == HDI_OK; i++) {
		char vm[32], date[32], clk[32], ic[24], ds[32];
		time_t t = (time_t)sn.date_sec;
		struct tm tm;
		uint64_t secs = sn.vm_clock_nsec / 1000000000u;
		edr_human_size(vm, sizeof vm, sn.vm_state_size);
		edr_human_size(ds, sizeof ds, sn.disk_size);
		if (!localtime_r(&t, &tm) || !strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm))
			snprintf(date, sizeof date, "%" PRIu64, sn.date_sec);
		snprintf(clk, sizeof clk, "%02" PRIu64 ":%02u:%02u.%03u", secs / 3600,
			 (unsigned)(secs / 60 % 60), (unsigned)(secs % 60),
			 (unsigned)(sn.vm_clock_nsec / 1000000u % 1000u));
		if (sn.icount_present)
			snprintf(ic, sizeof ic, "%" PRIu64, sn.icount);
		else
			ic[0] = 0;
		fprintf(o, "%-9s %-16s %8s %19s %12s %10s %11s\n", sn.id, sn.name, vm,
			date, clk, ic, ds);
	}
}

/* `snapshot list|-l [--json]` (tools/cmd_snapshot.c dispatches). */
int ed_snapshot_list(const char *image, int argc, char **argv)
{
	struct ed_image im;
	struct hdi_qcow2_info_result in;
	int json = 0, i, r;
	for (i = 2; i < argc; i++)
		if (edr_json_opt(argc, argv, &i, &json) != 1)
			return ed_err(image, "snapshot: unexpected argument '%s'", argv[i]);
	if (ed_open(&im, image, ED_OPEN_NO_BACKING))   /* like qemu-img info */
		return 1;
	if (!im.is_qcow2) {
		ed_close(&im);
		return ed_err(image, "snapshot: not a qcow2 image");
	}
	r = hdi_qcow2_info(&im.q, &in);
	if (r < 0) {
		ed_err_code(&im, "snapshot", r);
		ed_close(&im);
		return 1;
	}
	if (json) {
		fprintf(stdout, "{\n");
		json_snapshots(stdout, &im.q, in.nb_snapshots, "    ");
		fprintf(stdout, "    \"count\": %u\n}\n", in.nb_snapshots);
	} else if (in.nb_snapshots) {
		human_snapshots(stdout, &im.q, in.nb_snapshots);
	}
	return ed_close(&im) ? 1 : 0;
}
