/* tools/cmd_snapshot.c: edqcow2 snapshot list|create|apply|delete, also in
 * qemu-img's spelling (-l, -c NAME, -a NAME, -d NAME). The core does the
 * work; this parses, stamps the date and reports. */
#define _DEFAULT_SOURCE
#include <string.h>
#include <sys/time.h>
#include "ed.h"

static const char *usage =
	"usage: edqcow2 IMAGE snapshot list [--json]       (qemu-img snapshot -l)\n"
	"       edqcow2 IMAGE snapshot create NAME          (qemu-img snapshot -c NAME)\n"
	"       edqcow2 IMAGE snapshot apply ID|NAME        (qemu-img snapshot -a)\n"
	"       edqcow2 IMAGE snapshot delete ID|NAME       (qemu-img snapshot -d)\n"
	"  -l, -c, -a and -d are accepted for the words. Names are unique; ids\n"
	"  are numbered. apply makes the disk (and its size) the snapshot's.\n";

static const struct { const char *word, *flag; } verbs[] = {
	{ "list", "-l" }, { "create", "-c" }, { "apply", "-a" }, { "delete", "-d" },
};

static int verb(const char *a)
{
	size_t i;
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (!strcmp(a, verbs[i].word) || !strcmp(a, verbs[i].flag))
			return (int)i;
	return -1;
}

static int create(hdi_qcow2_t *q, const char *name)
{
	struct hdi_qcow2_snapshot sn;
	struct timeval tv;
	memset(&sn, 0, sizeof sn);
	if (strlen(name) >= sizeof sn.name)
		return HDI_EINVAL;
	strcpy(sn.name, name);
	gettimeofday(&tv, NULL);
	sn.date_sec = (uint64_t)tv.tv_sec;
	sn.date_nsec = (uint32_t)tv.tv_usec * 1000u;
	sn.icount_present = 1;   /* qemu-img records icount 0 */
	return hdi_qcow2_snapshot_create(q, &sn);
}

static int run(struct ed_image *im, int v, const char *name)
{
	int idx;
	if (v == 1)
		return create(&im->q, name);
	idx = hdi_qcow2_snapshot_find(&im->q, name);
	if (idx < 0)
		return idx;
	return v == 2 ? hdi_qcow2_snapshot_apply(&im->q, (uint32_t)idx)
		      : hdi_qcow2_snapshot_delete(&im->q, (uint32_t)idx);
}

int ed_cmd_snapshot(const char *image, int argc, char **argv)
{
	struct ed_image im;
	int v, r;
	if (ed_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	v = argc < 2 ? -1 : verb(argv[1]);
	if (v < 0)
		return ed_err(image, "snapshot: expected list, create, apply or delete (try --help)");
	if (v == 0)
		return ed_snapshot_list(image, argc, argv);
	if (argc != 3 || !argv[2][0])
		return ed_err(image, "snapshot %s: expected one snapshot name", verbs[v].word);
	if (ed_open(&im, image, ED_OPEN_RDWR))
		return 1;
	if (!im.is_qcow2) {
		ed_close(&im);
		return ed_err(image, "snapshot: not a qcow2 image");
	}
	r = run(&im, v, argv[2]);
	if (r == HDI_ENOENT)
		ed_err(image, "snapshot %s: no snapshot '%s'", verbs[v].word, argv[2]);
	else if (r < 0)
		ed_err_code(&im, "snapshot", r);
	if (ed_close(&im) && r == HDI_OK)
		r = HDI_EIO;
	return r < 0 ? 1 : 0;
}
