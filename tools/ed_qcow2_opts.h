/* tools/ed_qcow2_opts.h: qcow2 create options shared by `create` and
 * `convert -O qcow2` (parsed in tools/cmd_create.c). */
#ifndef ED_QCOW2_OPTS_H
#define ED_QCOW2_OPTS_H

#include "hdi/qcow2.h"

struct ed_qcow2_opts {
	struct hdi_qcow2_create_opts o;
	const char *backing, *backing_fmt;
	const char *format;        /* "qcow2" or "raw" */
	const char *prealloc;      /* off, metadata, falloc, full */
	uint64_t size;             /* -o size= */
	unsigned set;              /* ED_SET_*: the options given */
};
/* Bits of ed_qcow2_opts.set, one per qemu-img option name, so amend can
 * change only what was asked for. */
#define ED_SET_SIZE          (1u << 0)
#define ED_SET_CLUSTER_SIZE  (1u << 1)
#define ED_SET_REFCOUNT_BITS (1u << 2)
#define ED_SET_COMPAT        (1u << 3)
#define ED_SET_PREALLOC      (1u << 4)
#define ED_SET_COMPRESSION   (1u << 5)
#define ED_SET_LAZY          (1u << 6)
#define ED_SET_EXTENDED_L2   (1u << 7)
#define ED_SET_BACKING       (1u << 8)
#define ED_SET_BACKING_FMT   (1u << 9)

void ed_qcow2_opts_init(struct ed_qcow2_opts *c);
/* Consumes argv[*i] (and its value) if it is a create option: returns 1,
 * 0 if it is not one, -1 after printing an error. Takes our long names
 * (--cluster-size ...), qemu-img's -o key=value,... lists (cluster_size,
 * compat, lazy_refcounts, refcount_bits, extended_l2, compression_type,
 * preallocation, backing_file, backing_fmt, size; "-o help" lists them),
 * -b FILE, -F FMT, and -f/-O/--format FMT for the new image's format. */
int ed_qcow2_opts_parse(const char *image, struct ed_qcow2_opts *c,
			int argc, char **argv, int *i);
/* Refuses combinations qemu-img refuses; prints and returns 1. */
int ed_qcow2_opts_check(const char *image, struct ed_qcow2_opts *c);
/* Creates (truncating) path as an empty qcow2 image of size bytes
 * (rounded up to 512). Prints and returns 1 on failure. */
int ed_create_qcow2_file(const char *path, struct ed_qcow2_opts *c,
			 uint64_t size);

#endif
