/* tools/fdisk_ed.h: what edqcow2's fdisk files share (cmd_fdisk.c,
 * fdisk_print.c, fdisk_script.c): the open table, option parsing, output. */
#ifndef ED_FDISK_H
#define ED_FDISK_H

#include <stdint.h>
#include <stdio.h>
#include "ed.h"
#include "hdi/mbr.h"

/* An image opened for fdisk, with its partition table read. */
struct fd_ctx {
	struct ed_image im;
	struct hdi_mbr m;
	uint8_t buf[HDI_MBR_BUF_MAX];
	int open;
};

/* Opens image and reads its table; prints the error and returns 1 on
 * failure (0 on success). */
int fd_open(struct fd_ctx *c, const char *image, int rdwr);
/* Closes; returns the exit code (1 if closing failed, else rc). */
int fd_close(struct fd_ctx *c, int rc);
/* An edit runs twice: on a read-only open (final = 0) to be validated,
 * then, when valid, on a read-write open (final = 1) to be written. So a
 * refused change never opens the image for writing. Returns 0 or 1 (after
 * printing the error). */
typedef int (*fd_edit_fn)(struct fd_ctx *c, void *arg, int final);
int fd_edit(const char *image, fd_edit_fn fn, void *arg);
/* Prints the validation problem as "edqcow2: IMAGE: refused: ...". */
int fd_refuse(const char *image, const struct hdi_mbr_problem *why);
/* 1 when the disk is GPT (after printing that it is not edited). */
int fd_gpt_refuse(struct fd_ctx *c);

/* Options --geometry H/S and --align cylinder|1M|SECTORS. */
int fd_parse_geometry(const char *s, unsigned *heads, unsigned *sectors);
int fd_parse_align(const char *s, uint32_t *align);
/* A type in hex (with or without 0x), 1..FF. */
int fd_parse_hex_type(const char *s, uint8_t *type);
/* Plain numbers: decimal, 0x hex; 32-bit. */
int fd_parse_u32(const char *s, uint32_t *v);

/* "IMAGE1", or "IMAGEp1" when IMAGE ends in a digit (libfdisk's names). */
void fd_partname(char *out, size_t size, const char *image, unsigned n);
/* Name of an MBR type as fdisk -l shows it; "unknown" if none. */
const char *fd_type_name(uint8_t type);
/* Type by name, ignoring case and non-alphanumerics; -1 if none. */
int fd_type_by_name(const char *name);
/* libfdisk's size_to_human_string: "1.9M" (space3: "1.9 MiB"). */
void fd_human(char *out, size_t size, uint64_t bytes, int space3);

/* sfdisk -d output, and fdisk -l output. */
void fd_print_dump(FILE *f, const char *image, const struct hdi_mbr *m);
void fd_print_list(FILE *f, const char *image, const struct hdi_mbr *m);

/* One partition line of an sfdisk script. */
struct fd_line {
	unsigned lineno;
	unsigned partno;          /* from "DEVICE3 :", 0 when not given */
	int has_start, start_bytes;
	uint64_t start;           /* sectors, or bytes when start_bytes */
	int size_kind;            /* FD_SIZE_* */
	uint64_t size;            /* sectors, or bytes for FD_SIZE_BYTES */
	int type;                 /* -1: default (83) */
	int bootable;
	unsigned result;          /* set by fd_script_build: the partition's number */
};
enum { FD_SIZE_DEFAULT, FD_SIZE_SECTORS, FD_SIZE_BYTES };

struct fd_script {
	const char *name;         /* for messages */
	int has_id;
	uint32_t id;
	uint32_t grain;           /* sectors, 0: not given */
	unsigned n;
	struct fd_line line[HDI_MBR_PRIMARIES + HDI_MBR_MAX_LOGICAL];
};

/* Reads an sfdisk script (headers, named or unnamed lines). Prints what
 * is wrong and returns 1, or 0. */
int fd_script_read(struct fd_script *s, FILE *in, const char *name);
/* Replaces c's table with the script's partitions. align: 0 = sfdisk's
 * default (1 MiB, one sector on disks up to 4 MiB), else as --align
 * (HDI_MBR_ALIGN_CYLINDER is passed as FD_ALIGN_CYL). Returns 0 or 1. */
#define FD_ALIGN_DEFAULT 0xFFFFFFFFu
#define FD_ALIGN_CYL     HDI_MBR_ALIGN_CYLINDER
/* The first empty primary slot (1..4), or 0 when all four are used. */
int fd_free_slot(const struct hdi_mbr *m);
int fd_script_build(struct fd_ctx *c, struct fd_script *s,
		    uint32_t align, int verbose);
/* Validates and writes the script's table on image, as `fdisk apply`
 * does (align as for fd_script_build); verbose prints each partition.
 * Returns 0 or 1 (after printing the error). */
int fd_apply(const char *image, struct fd_script *s, uint32_t align,
	     int verbose);

#endif
