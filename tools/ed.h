/* tools/ed.h: what edqcow2's command files share: opening an image (qcow2
 * or raw, with its backing chain), size parsing and error reporting. */
#ifndef ED_H
#define ED_H

#include <stdint.h>
#include <stdio.h>
#include "hdi/qcow2.h"
#include "dev_file.h"

#define ED_WORKSPACE (64u << 20)   /* host tool: big caches, fast */

/* MinGW builds use its C99 printf (__USE_MINGW_ANSI_STDIO), so formats are
 * checked as GNU ones there, %zu included. */
#ifdef __MINGW32__
#define ED_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#else
#define ED_PRINTF(f, a) __attribute__((format(printf, f, a)))
#endif

struct ed_chain;   /* backing files opened for an image (tools/image.c) */

struct ed_image {
	const char *path;
	struct file_dev file;
	int is_qcow2;
	hdi_qcow2_t q;
	void *ws;
	size_t ws_size;
	struct hdi_bdev *disk;     /* the virtual disk: qcow2 view or the raw file */
	struct ed_chain *chain;
	unsigned rw_depth;         /* chain depth opened read-write (0: none) */
	struct ed_zctx *zc;        /* compressor for compressed writes (rdwr) */
};

#define ED_OPEN_RDWR        0x1
#define ED_OPEN_NO_BACKING  0x2
#define ED_OPEN_NO_IO       0x4   /* metadata only (info): lock as qemu-img info */
#define ED_OPEN_STABLE      0x8   /* nobody may write it meanwhile, raw too */
/* the backing-chain image at depth d (>= 1) is opened read-write too */
#define ED_OPEN_RW_DEPTH(d) ((int)(d) << 8)

/* Opens path, detecting qcow2 by magic, and takes QEMU's image locks on it
 * and its backing files (tools/image_lock.c). Prints one error line and
 * returns a negative code on failure. */
int ed_open(struct ed_image *im, const char *path, int flags);
/* Closes (flushing qcow2 metadata); prints and returns an error. */
int ed_close(struct ed_image *im);
/* Virtual-disk byte access for either kind of image. */
int ed_read(struct ed_image *im, uint64_t off, void *buf, size_t len);
int ed_write(struct ed_image *im, uint64_t off, const void *buf, size_t len);
uint64_t ed_disk_size(struct ed_image *im);

/* The image at backing-chain depth (0: im itself): its path, file device
 * and qcow2 state (NULL for raw). Returns 0, or -1 past the chain's end. */
int ed_chain_get(struct ed_image *im, unsigned depth, const char **path,
		 struct file_dev **file, hdi_qcow2_t **q);

/* A backing file name resolved against the directory of the image that
 * names it (absolute names, and drive letters on Windows, stay); malloc'd. */
char *ed_resolve(const char *overlay, const char *name);
/* A size as qemu-img reads it (tools/ed_size.c): "512", "4k", "1.5G",
 * suffixes b k M G T P E in either case (powers of 1024; KiB/KB too),
 * a fraction rounded to the nearest byte, 0x hex; at most INT64_MAX. */
int ed_parse_size(const char *s, uint64_t *out);

/* qemu-img's spellings (tools/ed_args.c). */
extern int ed_force_share;   /* -U / --force-share was given */
/* Does a file of that name exist? */
int ed_is_path(const char *s);
/* `COMMAND [options] IMAGE...` into our order: *image is the first
 * positional word (NULL if none) and *nargv (malloc'd) the rest: argv[0],
 * the other positional words in order, then the options. shorts: the command's short options that take a value. With
 * out_last, the last positional (convert's OUT) moves right after
 * argv[0]. Prints and returns 1 on error. */
int ed_qimg_order(const char *shorts, int out_last, int argc, char **argv,
		  const char **image, int *nargc, char ***nargv);
/* Options every command takes, in either order, removed from argv:
 * -f FMT (checked against the image; not for create, where it is the
 * new format), -U, -q (commands where qemu-img has it: stdout is
 * silenced); snapshot's -l/-c/-a/-d become list/create/apply/delete. */
int ed_common_opts(const char *image, int *argc, char **argv);
/* Refuses (prints, returns 1) a -f FMT that is not what image is. */
int ed_check_format(const char *image, const char *fmt);
/* Calls fn for each key[=value] of a qemu-img -o list (",," is a comma);
 * stops at and returns fn's first non-zero result. key and val stay valid
 * until the process ends. */
int ed_o_each(const char *image, const char *list,
	      int (*fn)(void *ctx, const char *key, const char *val), void *ctx);
/* on/off, yes/no, true/false (NULL: on). Returns 0, or -1 if neither. */
int ed_parse_bool(const char *v, int *out);
/* One line on stderr: "edqcow2: IMAGE: reason". Returns 1 (the exit code). */
int ed_err(const char *image, const char *fmt, ...)
	ED_PRINTF(2, 3);
/* Error line for a library code, with the qcow2 detail when there is one. */
int ed_err_code(struct ed_image *im, const char *what, int code);
/* OUT written under a temporary name: ed_tmp_begin locks an existing OUT
 * for writing (refused while QEMU uses it), makes OUT.tmp-XXXXXX
 * (printing why it could not: NULL) and removes it on SIGINT/SIGTERM;
 * ed_tmp_end renames it to OUT, or removes it when discard is set or the
 * rename fails (returns 1 then). The caller frees the name. */
char *ed_tmp_begin(const char *out);
int ed_tmp_end(const char *tmp, const char *out, int discard);
/* True when the n bytes at p are all zero (n may be 0). */
int ed_all_zero(const void *p, size_t n);
/* True when argv has --help or -h. */
int ed_wants_help(int argc, char **argv);

/* Every command: argv[0] is the command name; returns the exit code. */
typedef int (*ed_cmd_fn)(const char *image, int argc, char **argv);

/* Image locks and output guards (tools/image_lock.c). */
#define ED_LOCK_RDWR   0x1   /* write and resize, shared with nobody */
#define ED_LOCK_KEEP   0x2   /* read; nobody may write or resize meanwhile */
#define ED_LOCK_NO_IO  0x4   /* metadata only: no consistent-read byte */
/* Locks f (opened from path) as QEMU would; prints and returns 1 when the
 * image is in use (or -U was given for a write). */
int ed_lock(const char *path, struct file_dev *f, int how);
/* Opens path for a new image: created if missing, locked for writing, and
 * only then truncated. Prints and returns 1 on failure. */
int ed_create_open(struct file_dev *fd, const char *path);
/* When out exists: opens and locks it for writing (g->f set) so nobody
 * uses it while it is being replaced. Prints and returns 1 on failure. */
int ed_output_guard(struct file_dev *g, const char *out);
/* Depth in im's backing chain (0: im) of the file out names, else -1;
 * compared by file identity, so links and spellings are caught. */
int ed_chain_find(struct ed_image *im, const char *out);
/* Do two paths name one existing file? */
int ed_same_file(const char *a, const char *b);
/* Test hook: pause while the file named by EDQCOW2_TEST_HOLD exists. */
void ed_test_hold(void);

/* Commands, each defined in its own file. */
#define ED_CMD(name) int name(const char *image, int argc, char **argv)
ED_CMD(ed_cmd_info);          /* tools/cmd_info.c */
ED_CMD(ed_cmd_map);           /* tools/cmd_info.c */
ED_CMD(ed_cmd_read);          /* tools/cmd_read.c */
ED_CMD(ed_cmd_convert);       /* tools/cmd_convert.c */
ED_CMD(ed_cmd_check);         /* tools/cmd_check.c */
ED_CMD(ed_cmd_snapshot);      /* tools/cmd_snapshot.c */
ED_CMD(ed_snapshot_list);
ED_CMD(ed_cmd_commit);        /* tools/cmd_commit.c */
ED_CMD(ed_cmd_rebase);        /* tools/cmd_rebase.c */
ED_CMD(ed_cmd_amend);         /* tools/cmd_amend.c */     /* tools/cmd_info.c: snapshot list */
ED_CMD(ed_cmd_create);        /* tools/cmd_create.c */
ED_CMD(ed_cmd_write);         /* tools/cmd_io.c */
ED_CMD(ed_cmd_write_zeroes);  /* tools/cmd_io.c */
ED_CMD(ed_cmd_discard);       /* tools/cmd_io.c */
ED_CMD(ed_cmd_resize);        /* tools/cmd_create.c */
ED_CMD(ed_cmd_build);         /* tools/cmd_build.c */
ED_CMD(ed_cmd_fdisk);         /* tools/cmd_fdisk.c */
ED_CMD(ed_cmd_bootcode);      /* tools/cmd_fdisk.c */
ED_CMD(ed_cmd_partition);     /* tools/cmd_fdisk.c */
ED_CMD(ed_cmd_compare);       /* tools/cmd_compare.c */
ED_CMD(ed_cmd_measure);       /* tools/cmd_measure.c */

/* convert -O qcow2 lives with the write path (tools/convert_qcow2.c);
 * cmd_convert.c calls it when present. Returns the exit code. */
int ed_convert_to_qcow2(struct ed_image *src, const char *out, int argc,
			char **argv);

#endif
