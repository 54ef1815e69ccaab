/* tools/main.c: edqcow2's entry: `edqcow2 IMAGE COMMAND [ARGS]`, image
 * first as the seed had it, dispatched to the command files. */
#include <stdio.h>
#include <string.h>
#include "ed.h"

struct ed_cmd { const char *name; ed_cmd_fn fn; const char *summary; };

static const struct ed_cmd cmds[] = {
	{ "info", ed_cmd_info, "info [--json]: format, sizes and features" },
	{ "map", ed_cmd_map, "map [--json] [--snapshot ID|NAME]: allocation map" },
	{ "read", ed_cmd_read, "read OFFSET LENGTH [--snapshot ID|NAME]: bytes to stdout" },
	{ "write", ed_cmd_write, "write OFFSET FILE|-: write bytes into the virtual disk" },
	{ "write-zeroes", ed_cmd_write_zeroes, "write-zeroes OFFSET LENGTH" },
	{ "discard", ed_cmd_discard, "discard OFFSET LENGTH" },
	{ "convert", ed_cmd_convert, "convert OUT -O raw|qcow2 [options]" },
	{ "check", ed_cmd_check, "check [--json] [--repair leaks|all]" },
	{ "snapshot", ed_cmd_snapshot, "snapshot list|create|apply|delete [NAME] (-l/-c/-a/-d)" },
	{ "amend", ed_cmd_amend, "amend -o compat=,lazy_refcounts=,backing_file=,...: change options" },
	{ "commit", ed_cmd_commit, "commit [-d] [-b BASE]: write the image into its backing file" },
	{ "create", ed_cmd_create, "create SIZE [options]: make a new image" },
	{ "rebase", ed_cmd_rebase, "rebase -b NEWBASE [-F FMT] [-u]: change the backing file" },
	{ "resize", ed_cmd_resize, "resize SIZE [--shrink]" },
	{ "fdisk", ed_cmd_fdisk, "fdisk create|list|dump|apply|delete|set|signature ..." },
	{ "bootcode", ed_cmd_bootcode, "bootcode FILE: install MBR boot code" },
	{ "partition", ed_cmd_partition, "partition N write FILE | read [OFFSET LENGTH]" },
	{ "build", ed_cmd_build, "build RECIPE [--define NAME=VALUE] [--dry-run] [-p]: a whole image from a recipe" },
};

static void usage(FILE *f)
{
	size_t i;
	fprintf(f, "usage: edqcow2 IMAGE COMMAND [ARGS]\n"
		   "       edqcow2 COMMAND --help\n\n"
		   "IMAGE is qcow2 when it starts with the qcow2 magic, raw otherwise.\n"
		   "Sizes are bytes or take a K/M/G/T suffix (powers of 1024).\n\n"
		   "commands:\n");
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(f, "  %s\n", cmds[i].summary);
}

static const struct ed_cmd *find(const char *name)
{
	size_t i;
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct ed_cmd *c;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	/* `edqcow2 COMMAND --help` works without an image. */
	if ((c = find(argv[1])) && ed_wants_help(argc - 1, argv + 1))
		return c->fn(NULL, argc - 1, argv + 1);
	if (argc < 3) {
		usage(stderr);
		return 1;
	}
	c = find(argv[2]);
	if (!c)
		return ed_err(argv[1], "unknown command '%s' (try --help)", argv[2]);
	return c->fn(argv[1], argc - 2, argv + 2);
}
