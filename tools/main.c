/* tools/main.c: edqcow2's entry: `edqcow2 IMAGE COMMAND [ARGS]`, image
 * first as the seed had it, or qemu-img's `edqcow2 COMMAND [OPTIONS]
 * IMAGE...`, dispatched to the command files. */
#include <stdio.h>
#include <string.h>
#include "ed.h"
#include "hdi/hdi.h"

/* shorts: the command's short options that take a value in qemu-img's
 * spelling, so the word order can find the image (NULL: "fFbBoOtT"). */
struct ed_cmd {
	const char *name;
	ed_cmd_fn fn;
	const char *summary;
	const char *shorts;
	unsigned flags;
};
#define CMD_NO_IMAGE 0x1u   /* may run without an image (measure --size) */
#define CMD_OUT_LAST 0x2u   /* qemu-img's last word is the output (convert) */
#define CMD_ERR2     0x4u   /* errors exit 2 (compare: 1 means "different") */

static const struct ed_cmd cmds[] = {
	{ "info", ed_cmd_info, "info [--output=json]: format, sizes and features", "f", 0 },
	{ "map", ed_cmd_map, "map [--output=json] [--snapshot ID|NAME]: allocation map", "f", 0 },
	{ "read", ed_cmd_read, "read OFFSET LENGTH [--snapshot ID|NAME]: bytes to stdout", "fls", 0 },
	{ "write", ed_cmd_write, "write OFFSET FILE|-: write bytes into the virtual disk", "f", 0 },
	{ "write-zeroes", ed_cmd_write_zeroes, "write-zeroes OFFSET LENGTH", "f", 0 },
	{ "discard", ed_cmd_discard, "discard OFFSET LENGTH", "f", 0 },
	{ "convert", ed_cmd_convert, "convert OUT -O raw|qcow2 [-o OPTS] [-p]: copy to a new image", "fFOoBlsStTmrj", CMD_OUT_LAST },
	{ "check", ed_cmd_check, "check [--output=json] [-r leaks|all]", "fr", 0 },
	{ "compare", ed_cmd_compare, "compare IMAGE2 [-s] [-F FMT]: same contents? (exit 0 yes, 1 no)", "fFT", CMD_ERR2 },
	{ "measure", ed_cmd_measure, "measure [-O qcow2|raw] [-o OPTS] [--size SIZE] [--output=json]", "fOol", CMD_NO_IMAGE },
	{ "snapshot", ed_cmd_snapshot, "snapshot list|create|apply|delete [NAME] (-l, -c/-a/-d NAME)", "acdf", 0 },
	{ "commit", ed_cmd_commit, "commit [-d] [-b BASE]: write the image into its backing file", "fbt", 0 },
	{ "rebase", ed_cmd_rebase, "rebase -b NEWBASE [-F FMT] [-u]: change the backing file", "fbFt", 0 },
	{ "amend", ed_cmd_amend, "amend -o compat=,lazy_refcounts=,refcount_bits=: change options", "fo", 0 },
	{ "create", ed_cmd_create, "create SIZE [-f FMT] [-o OPTS] [-b FILE -F FMT]: make a new image", "fobF", 0 },
	{ "resize", ed_cmd_resize, "resize [+|-]SIZE [--shrink]", "f", 0 },
	{ "fdisk", ed_cmd_fdisk, "fdisk create|list|dump|apply|delete|set|signature ...", "f", 0 },
	{ "bootcode", ed_cmd_bootcode, "bootcode FILE: install MBR boot code", "f", 0 },
	{ "partition", ed_cmd_partition, "partition N write FILE | read [OFFSET LENGTH]", "f", 0 },
	{ "build", ed_cmd_build, "build RECIPE [--define NAME=VALUE] [--dry-run] [-p]: a whole image from a recipe", "f", 0 },
};

/* edqcow2 is versioned with the library it is built from. */
#define ED_STR_(x) #x
#define ED_STR(x) ED_STR_(x)
#define ED_VERSION ED_STR(HDI_VERSION_MAJOR) "." ED_STR(HDI_VERSION_MINOR) \
		   "." ED_STR(HDI_VERSION_PATCH)

static void usage(FILE *f)
{
	size_t i;
	fprintf(f, "usage: edqcow2 IMAGE COMMAND [ARGS]          (image first)\n"
		   "       edqcow2 COMMAND [OPTIONS] IMAGE [ARGS] (qemu-img's order)\n"
		   "       edqcow2 COMMAND --help | --help | --version\n\n"
		   "IMAGE is qcow2 when it starts with the qcow2 magic, raw otherwise.\n"
		   "Sizes: bytes, or a fraction with a suffix k M G T P E (powers of\n"
		   "1024, either case; b for bytes): 512, 64k, 1.5G.\n"
		   "qemu-img's options work: -f FMT, -O FMT, -o key=value,... (-o help),\n"
		   "-b FILE -F FMT, -p, -q, -U, --output=json|human.\n\n"
		   "commands:\n");
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(f, "  %s\n", cmds[i].summary);
	fprintf(f, "\nqemu-img equivalents: docs/cli.md.\n");
}

static const struct ed_cmd *find(const char *name)
{
	size_t i;
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

/* The command, its image and its arguments in our order, from either of
 * the two word orders. Returns -1 to go on, or an exit code. */
static int words(int argc, char **argv, const struct ed_cmd **c,
		 const char **image, int *nargc, char ***nargv)
{
	/* qemu-img's order: argv[1] names a command and is not a file */
	if ((*c = find(argv[1])) && !ed_is_path(argv[1])) {
		if (ed_qimg_order((*c)->shorts ? (*c)->shorts : "fFbBoOtT",
				  !!((*c)->flags & CMD_OUT_LAST), argc - 1,
				  argv + 1, image, nargc, nargv))
			return 1;
		if (!*image && !((*c)->flags & CMD_NO_IMAGE)) {
			ed_err((*c)->name, "an image name is missing (try %s --help)",
			       (*c)->name);
			return (*c)->flags & CMD_ERR2 ? 2 : 1;
		}
		return -1;
	}
	if (argc < 3) {
		usage(stderr);
		return 1;
	}
	*c = find(argv[2]);
	if (!*c)
		return ed_err(argv[1], "unknown command '%s' (try --help)", argv[2]);
	*image = argv[1];
	*nargc = argc - 2;
	*nargv = argv + 2;
	return -1;
}

int main(int argc, char **argv)
{
	const struct ed_cmd *c;
	const char *image;
	char **nargv;
	int nargc, r;
	/* -U before everything, the image included, as anywhere else */
	while (argc > 1 && (!strcmp(argv[1], "-U") || !strcmp(argv[1], "--force-share"))) {
		ed_force_share = 1;
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("edqcow2 version " ED_VERSION "\n");
		return 0;
	}
	/* `edqcow2 COMMAND --help` works without an image. */
	if ((c = find(argv[1])) && ed_wants_help(argc - 1, argv + 1))
		return c->fn(NULL, argc - 1, argv + 1);
	r = words(argc, argv, &c, &image, &nargc, &nargv);
	if (r >= 0)
		return r;
	if (ed_common_opts(image, &nargc, nargv))
		return c->flags & CMD_ERR2 ? 2 : 1;
	return c->fn(image, nargc, nargv);
}
