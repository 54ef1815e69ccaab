/* tools/cmd_amend.c: edqcow2 amend -o OPTIONS, as qemu-img amend: compat,
 * lazy_refcounts, refcount_bits, backing_file and backing_fmt. */
#include <stdlib.h>
#include <string.h>
#include "ed.h"

static const char *usage =
	"usage: edqcow2 IMAGE amend -o OPTION=VALUE[,...]   (qemu-img amend -o ... IMAGE)\n"
	"  compat=0.10|1.1         downgrade refused with extended L2 or zstd\n"
	"  lazy_refcounts=on|off   needs compat=1.1\n"
	"  refcount_bits=1..64     power of two; other than 16 needs compat=1.1\n"
	"  backing_file=, backing_fmt=  only the values the image has (as qemu-img;\n"
	"                          rebase changes them)\n";

struct am_args {
	struct hdi_qcow2_amend_opts o;
	const char *backing, *fmt;
	int set_backing;
};

static int onoff(const char *v, int *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true"))
		*out = 1;
	else if (!strcmp(v, "off") || !strcmp(v, "false"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* One key=value; returns 0 or prints and returns 1. */
static int one(const char *image, char *kv, struct am_args *a)
{
	char *v = strchr(kv, '=');
	uint64_t n;
	if (!v)
		return ed_err(image, "amend: option '%s' needs a value", kv);
	*v++ = 0;
	if (!strcmp(kv, "compat")) {
		a->o.version = !strcmp(v, "0.10") || !strcmp(v, "v2") ? 2 :
			       !strcmp(v, "1.1") || !strcmp(v, "v3") ? 3 : 0;
		if (!a->o.version)
			return ed_err(image, "amend: compat must be 0.10 or 1.1");
	} else if (!strcmp(kv, "lazy_refcounts")) {
		if (onoff(v, &a->o.lazy_refcounts))
			return ed_err(image, "amend: lazy_refcounts must be on or off");
	} else if (!strcmp(kv, "refcount_bits")) {
		if (ed_parse_size(v, &n) || !n || n > 64)
			return ed_err(image, "amend: invalid refcount_bits '%s'", v);
		a->o.refcount_bits = (uint32_t)n;
	} else if (!strcmp(kv, "backing_file")) {
		a->backing = v;
		a->set_backing = 1;
	} else if (!strcmp(kv, "backing_fmt")) {
		if (strcmp(v, "raw") && strcmp(v, "qcow2"))
			return ed_err(image, "amend: unknown backing format '%s'", v);
		a->fmt = v;
		a->set_backing = 1;
	} else {
		return ed_err(image, "amend: changing '%s' is not supported", kv);
	}
	return 0;
}

static int parse(const char *image, int argc, char **argv, struct am_args *a)
{
	int i, seen = 0;
	memset(a, 0, sizeof *a);
	a->o.lazy_refcounts = -1;
	for (i = 1; i < argc; i++) {
		char *s, *tok;
		if (strcmp(argv[i], "-o") || i + 1 >= argc)
			return ed_err(image, "amend: unexpected argument '%s' (try --help)", argv[i]);
		s = argv[++i];
		for (tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
			if (one(image, tok, a))
				return 1;
		seen = 1;
	}
	return seen ? 0 : ed_err(image, "amend: -o OPTIONS is required");
}

/* qemu-img amend refuses to change the backing file (rebase does it);
 * the values the image already has are accepted. */
static int same_backing(struct ed_image *im, const struct am_args *a)
{
	struct hdi_qcow2_info_result in;
	int r = hdi_qcow2_info(&im->q, &in);
	if (r < 0)
		return ed_err_code(im, "amend", r);
	if ((a->backing && strcmp(a->backing, in.backing_file)) ||
	    (a->fmt && strcmp(a->fmt, in.backing_format)))
		return ed_err(im->path, "amend: cannot amend the backing file; use rebase instead");
	return 0;
}

int ed_cmd_amend(const char *image, int argc, char **argv)
{
	struct am_args a;
	struct ed_image im;
	int r;
	if (ed_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (parse(image, argc, argv, &a))
		return 1;
	if (ed_open(&im, image, ED_OPEN_RDWR))
		return 1;
	if (!im.is_qcow2) {
		ed_close(&im);
		return ed_err(image, "amend: not a qcow2 image");
	}
	if (a.set_backing && same_backing(&im, &a))
		r = HDI_EINVAL;
	else if ((r = hdi_qcow2_amend(&im.q, &a.o)) < 0)
		ed_err_code(&im, "amend", r);
	if (ed_close(&im) && r == HDI_OK)
		r = HDI_EIO;
	return r < 0 ? 1 : 0;
}
