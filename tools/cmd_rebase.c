/* tools/cmd_rebase.c: edqcow2 rebase -b NEWBASE [-F FMT] [-u], as qemu-img
 * rebase: opens the new backing file (name relative to the image, stored
 * as given) and lets the core copy what differs and rewrite the header. */
#include <stdlib.h>
#include <string.h>
#include "ed.h"

static const char *usage =
	"usage: edqcow2 IMAGE rebase -b NEWBASE [-F raw|qcow2] [-u] [-q]\n"
	"                            (qemu-img rebase -b NEWBASE [-F FMT] [-u] IMAGE)\n"
	"  Makes NEWBASE the backing file. Ranges the image does not allocate and\n"
	"  that read differently through NEWBASE are copied into the image first,\n"
	"  so its contents stay the same. -b \"\" makes the image standalone.\n"
	"  -u   only rewrite the header (NEWBASE must already hold the same data)\n"
	"  -F   the format recorded for NEWBASE (probed when not given)\n";

struct rb_args { const char *base, *fmt; int unsafe, quiet; };

static int parse(const char *image, int argc, char **argv, struct rb_args *a)
{
	int i;
	memset(a, 0, sizeof *a);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-u"))
			a->unsafe = 1;
		else if (!strcmp(argv[i], "-q"))
			a->quiet = 1;
		else if (!strcmp(argv[i], "-b") && i + 1 < argc)
			a->base = argv[++i];
		else if (!strcmp(argv[i], "-F") && i + 1 < argc)
			a->fmt = argv[++i];
		else
			return ed_err(image, "rebase: unexpected argument '%s' (try --help)", argv[i]);
	}
	if (!a->base)
		return ed_err(image, "rebase: -b NEWBASE is required (-b \"\" to flatten)");
	if (a->fmt && strcmp(a->fmt, "raw") && strcmp(a->fmt, "qcow2"))
		return ed_err(image, "rebase: unknown backing format '%s'", a->fmt);
	if (!*a->base && a->fmt)
		return ed_err(image, "rebase: -F needs a backing file");
	return 0;
}

/* Opens the new backing file (resolved against the image's directory). */
static int open_new(const char *image, const char *base, struct ed_image *nb,
		    char **path)
{
	*path = ed_resolve(image, base);
	if (!*path)
		return ed_err(image, "out of memory");
	if (ed_open(nb, *path, 0)) {
		free(*path);
		return ed_err(image, "rebase: cannot use '%s' as the new backing file", base);
	}
	/* qemu-img rebase -u writes such a loop without a word */
	if (ed_chain_find(nb, image) >= 0) {
		ed_close(nb);
		free(*path);
		return ed_err(image, "rebase: the image is in the backing chain of '%s' "
			      "(the chain would loop)", base);
	}
	return 0;
}

int ed_cmd_rebase(const char *image, int argc, char **argv)
{
	struct rb_args a;
	struct ed_image im, nb;
	char *path = NULL;
	const char *fmt;
	int have_nb = 0, r;
	if (ed_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (parse(image, argc, argv, &a))
		return 1;
	if (*a.base) {
		if (open_new(image, a.base, &nb, &path))
			return 1;
		have_nb = 1;
	}
	fmt = a.fmt ? a.fmt : have_nb ? (nb.is_qcow2 ? "qcow2" : "raw") : NULL;
	r = HDI_EINVAL;
	if (have_nb && !strcmp(fmt, "qcow2") && !nb.is_qcow2)
		ed_err(image, "rebase: '%s' is not a qcow2 image", a.base);
	else if (!ed_open(&im, image, ED_OPEN_RDWR | (a.unsafe ? ED_OPEN_NO_BACKING : 0))) {
		r = !im.is_qcow2 ? HDI_EINVAL :
		    hdi_qcow2_rebase(&im.q, have_nb ? nb.disk : NULL, a.base, fmt,
				     a.unsafe ? HDI_QCOW2_REBASE_UNSAFE : 0);
		if (!im.is_qcow2)
			ed_err(image, "rebase: not a qcow2 image");
		else if (r < 0)
			ed_err_code(&im, "rebase", r);
		if (ed_close(&im) && r == HDI_OK)
			r = HDI_EIO;
	}
	if (have_nb)
		ed_close(&nb);
	free(path);
	return r < 0 ? 1 : 0;
}
