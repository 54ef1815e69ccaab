/* tools/fdisk_ed.h: what edqcow2's fdisk files share (cmd_fdisk.c,
 * fdisk_print.c, fdisk_script.c): the open table, option parsing, output. */
#ifndef ED_FDISK_H
#define ED_FDISK_H

#include <stdint.h>
#include <stdio.h>
#include "ed.h"
#include "hdi/mbr.h"
#include "hdi/gpt.h"

/* Used GPT entries edqcow2 holds in memory (the table may be longer). */
#define FD_GPT_MAXP 4096u

/* An image opened for fdisk, with its partition table read: the MBR, and
 * the GPT when sector 0 is a protective MBR (gpt_r: what reading it gave). */
struct fd_ctx {
	struct ed_image im;
	struct hdi_mbr m;
	uint8_t buf[HDI_MBR_BUF_MAX];
	int open;
	int is_gpt;                  /* the disk is GPT: edits go to g */
	int wipe_gpt;                /* a DOS label replaces the GPT in g */
	int gpt_r;
	struct hdi_gpt g;
	uint8_t gbuf[HDI_GPT_BUF_MAX];
	struct hdi_gpt_part gparts[FD_GPT_MAXP];
};

/* Options every fdisk command (and partition) takes: --sector-size 512|4096
 * (GPT's logical sector) and --seed N (reproducible GUIDs); set before
 * fd_open. */
extern uint32_t fd_sector;
extern int fd_sector_given;      /* --sector-size was given */
int fd_guid(void *ctx, struct hdi_guid *g);
/* Restarts the --seed sequence: both runs of an edit draw the same GUIDs. */
void fd_guid_restart(void);
/* Removes --sector-size and --seed from argv; 1 after an error. */
int fd_global_opts(const char *image, int *argc, char **argv);

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
int fd_gpt_refuse_why(const char *image, const struct hdi_gpt_problem *why);
/* 1 when the disk is GPT (after printing that the option is MBR-only). */
int fd_gpt_refuse(struct fd_ctx *c);

/* GPT fields of create and set: --name, --uuid, --attrs, parsed. */
struct fd_gpt_fields {
	int any, has_name, has_uuid, has_attrs;
	uint16_t name[HDI_GPT_NAME_LEN];
	struct hdi_guid uuid;
	uint64_t attrs;
};
int fd_gpt_fields_parse(const char *image, const char *name, const char *uuid,
			const char *attrs, struct fd_gpt_fields *f);
/* Puts the given fields in p; bootable >= 0 sets or clears the legacy
 * BIOS bootable attribute. */
void fd_gpt_fields_apply(struct hdi_gpt_part *p, const struct fd_gpt_fields *f,
			 int bootable);
/* --type for a GPT partition (NULL: Linux filesystem); 1 after an error. */
int fd_gpt_type_arg(struct fd_ctx *c, const char *s, struct hdi_guid *t);

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

/* A table as libsmartcols prints it to a non-terminal (fdisk -l). */
#define FD_COLS_MAX 8
struct fd_cols {
	unsigned n;
	const char *const *heads;
	const unsigned *hints;       /* width hints */
	const int *right;            /* right-aligned columns */
};
void fd_table(FILE *f, const struct fd_cols *t, const char *const *cells,
	      unsigned nrows);

/* fdisk -l's first four lines (disk size and sector sizes). */
void fd_print_disk(FILE *f, const char *image, uint64_t bytes, uint32_t sector);

/* sfdisk -d output, and fdisk -l output. */
void fd_print_dump(FILE *f, const char *image, const struct hdi_mbr *m);
void fd_print_list(FILE *f, const char *image, const struct hdi_mbr *m);
void fd_gpt_print_dump(FILE *f, const char *image, const struct hdi_gpt *g);
void fd_gpt_print_list(FILE *f, const char *image, const struct hdi_gpt *g);
/* The fdisk -l name of a GPT type, NULL when unknown. */
const char *fd_gpt_type_name(const struct hdi_guid *t);
/* A GPT type from a GUID, sfdisk shortcut (L, S, H, U, R, V), alias
 * (linux, swap, home, uefi, raid, lvm) or fdisk -l name; -1 if none. */
int fd_gpt_parse_type(const char *s, struct hdi_guid *t);
/* sfdisk's attrs="..." text: RequiredPartition NoBlockIOProtocol
 * LegacyBIOSBootable GUID:48,49 (bit numbers 48..63); -1 if bad. */
int fd_gpt_parse_attrs(const char *s, uint64_t *attrs);
void fd_gpt_attrs_str(uint64_t attrs, char *out, size_t size);

/* One partition line of an sfdisk script. */
struct fd_line {
	unsigned lineno;
	unsigned partno;          /* from "DEVICE3 :", 0 when not given */
	int has_start, start_bytes;
	uint64_t start;           /* 512-byte sectors */
	uint64_t start_raw;       /* as written: sectors, or bytes when start_bytes */
	int size_kind;            /* FD_SIZE_* */
	uint64_t size;            /* sectors, or bytes for FD_SIZE_BYTES */
	int type;                 /* MBR: -1 default (83); resolved by the builder */
	char type_text[48];       /* as written; "" default */
	int bootable;
	int has_uuid, has_name, has_attrs;
	struct hdi_guid uuid;
	uint16_t name[HDI_GPT_NAME_LEN];
	uint64_t attrs;
	unsigned result;          /* set by the builders: the partition's number */
};
enum { FD_SIZE_DEFAULT, FD_SIZE_SECTORS, FD_SIZE_BYTES };
enum { FD_LABEL_KEEP = 0, FD_LABEL_DOS, FD_LABEL_GPT };
#define FD_SCRIPT_MAX 256u

struct fd_script {
	const char *name;         /* for messages */
	int label;                /* FD_LABEL_*: the label: header */
	int has_id, has_gid;
	uint32_t id;              /* label-id of a dos label */
	struct hdi_guid gid;      /* label-id of a gpt label */
	uint32_t grain;           /* sectors, 0: not given */
	uint64_t first_lba, last_lba;  /* GPT headers; 0: not given */
	uint32_t table_length;
	unsigned n;
	struct fd_line line[FD_SCRIPT_MAX];
};

/* Strips leading and trailing blanks in place; returns the first kept. */
char *fd_trim(char *p);
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
/* The same for a GPT (a new table when the disk is not GPT yet). */
int fd_gpt_script_build(struct fd_ctx *c, struct fd_script *s,
			uint32_t align, int verbose);
/* A new empty GPT on c's disk (nothing written): libfdisk's layout. */
int fd_gpt_new(struct fd_ctx *c, uint32_t nentries, uint64_t first_lba,
	       const struct hdi_guid *id);
/* After (growing) or before (shrinking) a resize to new_bytes: the GPT's
 * backup moves to the new end; a shrink that would cut a partition is
 * refused. Nothing happens on a disk without GPT. Returns 0 or 1. */
int fd_gpt_follow_resize(struct ed_image *im, uint64_t new_bytes);
/* A new empty DOS table on c's disk (nothing written): id in hex, or
 * random (--seed: from the sequence); a GPT there is wiped after. */
int fd_dos_new(struct fd_ctx *c, const char *id);
/* sfdisk's grain: 1 MiB, one sector on disks up to 4 MiB. */
uint64_t fd_default_grain(uint64_t disk_bytes, uint32_t sector);

/* GPT type names as fdisk -l prints them (tools/fdisk_gpt_types.c). */
struct fd_gpt_type { const char *guid, *name; };
extern const struct fd_gpt_type fd_gpt_types[];
extern const unsigned fd_gpt_ntypes;
/* Validates and writes the script's table on image, as `fdisk apply`
 * does (align as for fd_script_build); verbose prints each partition.
 * Returns 0 or 1 (after printing the error). */
int fd_apply(const char *image, struct fd_script *s, uint32_t align,
	     int verbose);

#endif
