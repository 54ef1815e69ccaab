/* tools/ed_qcow2_opts.h: qcow2 create options shared by `create` and
 * `convert -O qcow2` (parsed in tools/cmd_create.c). */
#ifndef ED_QCOW2_OPTS_H
#define ED_QCOW2_OPTS_H

#include "hdi/qcow2.h"

struct ed_qcow2_opts {
	struct hdi_qcow2_create_opts o;
	const char *backing, *backing_fmt;
	const char *format;        /* "qcow2" or "raw" */
	int compat_set;
};

void ed_qcow2_opts_init(struct ed_qcow2_opts *c);
/* Consumes argv[*i] (and its value) if it is a create option: returns 1,
 * 0 if it is not one, -1 after printing an error. */
int ed_qcow2_opts_parse(const char *image, struct ed_qcow2_opts *c,
			int argc, char **argv, int *i);
/* Refuses combinations qemu-img refuses; prints and returns 1. */
int ed_qcow2_opts_check(const char *image, struct ed_qcow2_opts *c);
/* Creates (truncating) path as an empty qcow2 image of size bytes
 * (rounded up to 512). Prints and returns 1 on failure. */
int ed_create_qcow2_file(const char *path, struct ed_qcow2_opts *c,
			 uint64_t size);

#endif
