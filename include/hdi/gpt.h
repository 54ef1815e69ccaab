/* hdi/gpt.h: GUID partition tables on any hdi_bdev: read (primary, or the
 * backup when the primary is damaged), edit in memory, validate, write in
 * crash-safe order, relocate the backup when the disk changes size.
 *
 * Concurrency: one struct hdi_gpt is used by one thread at a time (calls
 * on it must not overlap); different tables may be used at once, on
 * different devices. */
#ifndef HDI_GPT_H
#define HDI_GPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "bdev.h"

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__) && defined(__ELF__)
/* Only what these headers declare is the library's interface: core is
 * compiled with -fvisibility=hidden, so everything else stays internal. */
#pragma GCC visibility push(default)
#endif

/* ---- on-disk layout (little-endian; GUIDs mixed-endian) ----------------- */
#define HDI_GPT_SIG             "EFI PART"
#define HDI_GPT_REVISION        0x00010000u
#define HDI_GPT_HEADER_SIZE     92u
/* Header offsets. */
#define HDI_GPT_H_SIG           0u    /* 8 bytes "EFI PART" */
#define HDI_GPT_H_REVISION      8u    /* u32 */
#define HDI_GPT_H_SIZE          12u   /* u32 header size (92..sector) */
#define HDI_GPT_H_CRC           16u   /* u32 CRC-32 of the header, this field 0 */
#define HDI_GPT_H_RESERVED      20u   /* u32, 0 */
#define HDI_GPT_H_MY_LBA        24u   /* u64 where this header is */
#define HDI_GPT_H_ALT_LBA       32u   /* u64 where the other header is */
#define HDI_GPT_H_FIRST_USABLE  40u   /* u64 */
#define HDI_GPT_H_LAST_USABLE   48u   /* u64 (inclusive) */
#define HDI_GPT_H_DISK_GUID     56u   /* 16 bytes */
#define HDI_GPT_H_ARRAY_LBA     72u   /* u64 first sector of the entry array */
#define HDI_GPT_H_NENTRIES      80u   /* u32 */
#define HDI_GPT_H_ENTRY_SIZE    84u   /* u32, 128 * 2^n */
#define HDI_GPT_H_ARRAY_CRC     88u   /* u32 CRC-32 of nentries * entry_size bytes */
/* Entry offsets. */
#define HDI_GPT_ENTRY_SIZE      128u
#define HDI_GPT_E_TYPE          0u    /* 16 bytes; all zero = unused entry */
#define HDI_GPT_E_UUID          16u   /* 16 bytes, unique partition GUID */
#define HDI_GPT_E_FIRST         32u   /* u64 first LBA */
#define HDI_GPT_E_LAST          40u   /* u64 last LBA (inclusive) */
#define HDI_GPT_E_ATTRS         48u   /* u64 */
#define HDI_GPT_E_NAME          56u   /* 36 UTF-16LE code units */
#define HDI_GPT_NAME_LEN        36u

/* Attribute bits. */
#define HDI_GPT_ATTR_REQUIRED     (1ull << 0)   /* platform required */
#define HDI_GPT_ATTR_NO_BLOCK_IO  (1ull << 1)   /* EFI: no block I/O protocol */
#define HDI_GPT_ATTR_LEGACY_BOOT  (1ull << 2)   /* legacy BIOS bootable */
#define HDI_GPT_ATTR_TYPE_MASK    0xFFFF000000000000ull  /* bits 48-63 */

#define HDI_GPT_DEFAULT_ENTRIES 128u
/* Reading refuses larger tables (hostile headers): 8 MiB of entries. */
#define HDI_GPT_MAX_ENTRIES     65536u

/* Buffer the caller lends: one logical sector, plus a bounce granule when
 * the device's granule is larger. HDI_GPT_BUF_MAX fits any sector size
 * on any device. */
#define HDI_GPT_BUF_SIZE(sector, granule) \
	((uint32_t)(sector) + ((granule) > (sector) ? (uint32_t)(granule) : 0u))
#define HDI_GPT_BUF_MAX (4096u + HDI_GRANULE_MAX)

/* A GUID is kept as its 16 on-disk bytes: the first three fields are
 * little-endian, the last two big-endian (the text form's byte order). */
struct hdi_guid { uint8_t b[16]; };

/* One used entry. Partition number = slot + 1. */
struct hdi_gpt_part {
	uint64_t first, last;            /* inclusive LBAs */
	uint64_t attrs;
	struct hdi_guid type, uuid;
	uint16_t name[HDI_GPT_NAME_LEN]; /* UTF-16 code units, 0-padded */
	uint32_t slot;                   /* 0-based entry index */
};
/* Bytes of caller storage for n parts. */
#define HDI_GPT_PARTS_SIZE(n) ((size_t)(n) * sizeof(struct hdi_gpt_part))

/* What hdi_gpt_read found (status bits), as fdisk and gdisk report it. */
#define HDI_GPT_S_NO_PMBR       0x0001u  /* sector 0 has no 0xEE entry */
#define HDI_GPT_S_HYBRID        0x0002u  /* other MBR entries beside 0xEE */
#define HDI_GPT_S_PMBR_SIZE     0x0004u  /* 0xEE entry does not cover the disk */
#define HDI_GPT_S_PRIMARY_BAD   0x0010u  /* primary header invalid */
#define HDI_GPT_S_PRIMARY_ARRAY 0x0020u  /* primary entry array CRC mismatch */
#define HDI_GPT_S_BACKUP_BAD    0x0040u  /* backup header invalid or missing */
#define HDI_GPT_S_BACKUP_ARRAY  0x0080u  /* backup entry array CRC mismatch */
#define HDI_GPT_S_USED_BACKUP   0x0100u  /* the table was read from the backup */
#define HDI_GPT_S_BACKUP_NOT_END 0x0200u /* backup header not at the last LBA */
#define HDI_GPT_S_MISMATCH      0x0400u  /* both valid but they differ */

enum hdi_gpt_kind { HDI_GPT_NONE = 0, HDI_GPT_VALID };

/* Source of new GUIDs (the core has no RNG): fills g, returns 0 or an
 * error. The host tool reads the OS's random source, or a seeded one. */
typedef int (*hdi_gpt_guid_fn)(void *ctx, struct hdi_guid *g);

struct hdi_gpt {
	const struct hdi_bdev *dev;
	uint8_t *buf;                 /* caller's HDI_GPT_BUF_SIZE buffer */
	uint32_t sector;              /* logical sector size: 512 or 4096 */
	uint8_t kind;                 /* enum hdi_gpt_kind */
	uint16_t status;              /* HDI_GPT_S_* from reading */
	uint64_t disk_sectors;        /* the disk the table is laid out for */
	struct hdi_guid disk_guid;
	uint64_t first_usable, last_usable;
	uint64_t alt_lba;             /* backup header (last LBA of the disk) */
	uint64_t array_lba;           /* primary entry array */
	uint64_t alt_array_lba;       /* backup entry array */
	uint32_t nentries, entry_size;
	uint32_t revision;
	/* Used entries, sorted by slot, in caller storage. */
	struct hdi_gpt_part *parts;
	uint32_t nparts, max_parts;
	hdi_gpt_guid_fn guid_fn;      /* for hdi_gpt_new/add without a GUID */
	void *guid_ctx;
};

/* ---- reading ----------------------------------------------------------------- */
/* Reads the GPT of dev with sector-byte logical sectors (512 or 4096).
 * buf (buf_size >= HDI_GPT_BUF_SIZE(sector, dev->granule)) and parts
 * (max_parts entries) stay in use until the last call on g.
 * HDI_OK: kind VALID (table from the primary, or from the backup with
 * HDI_GPT_S_USED_BACKUP), or kind NONE when there is no GPT at all (no
 * 0xEE entry and no valid header). HDI_ECORRUPT: a GPT is there but no
 * header with its array is valid (status says what is wrong).
 * HDI_ENOMEM: more used entries than max_parts, or buf too small. */
int hdi_gpt_read(struct hdi_gpt *g, const struct hdi_bdev *dev,
		 uint32_t sector, void *buf, size_t buf_size,
		 struct hdi_gpt_part *parts, uint32_t max_parts);

/* Partition n (1-based entry number), NULL when that entry is unused. */
struct hdi_gpt_part *hdi_gpt_find(const struct hdi_gpt *g, unsigned n);
/* Byte range of partition n on the disk. */
int hdi_gpt_range(const struct hdi_gpt *g, unsigned n, uint64_t *off,
		  uint64_t *len);
/* A window on partition n as a device (see hdi_bdev_view_init). */
int hdi_gpt_partdev_init(struct hdi_bdev_view *v, const struct hdi_gpt *g,
			 unsigned n);
/* Sectors the entry array takes. */
uint64_t hdi_gpt_array_sectors(const struct hdi_gpt *g);

/* ---- GUIDs, names, types --------------------------------------------------- */
/* "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" (36 chars + NUL; upper case). */
void hdi_guid_to_str(const struct hdi_guid *g, char out[37]);
/* Parses the 36-character text form (either case); HDI_EINVAL if bad. */
int hdi_guid_from_str(struct hdi_guid *g, const char *s);
bool hdi_guid_is_zero(const struct hdi_guid *g);
bool hdi_guid_eq(const struct hdi_guid *a, const struct hdi_guid *b);
/* Marks 16 random bytes as a version-4 (random) GUID. */
void hdi_guid_make_v4(struct hdi_guid *g);

/* Name from UTF-8 (at most 36 UTF-16 code units; HDI_EINVAL when longer
 * or not UTF-8), and to UTF-8 (out holds 36 * 3 + 1 bytes at most; a
 * surrogate pair takes 4 bytes for 2 code units). */
#define HDI_GPT_NAME_UTF8_MAX (HDI_GPT_NAME_LEN * 3u + 1u)
int hdi_gpt_name_from_utf8(uint16_t name[HDI_GPT_NAME_LEN], const char *s);
void hdi_gpt_name_to_utf8(const uint16_t name[HDI_GPT_NAME_LEN],
			  char out[HDI_GPT_NAME_UTF8_MAX]);

/* The partition types users name, with sfdisk's shortcut letters. */
struct hdi_gpt_type {
	const char *name;       /* as fdisk -l prints it */
	const char *guid;       /* text form */
	const char *shortcut;   /* sfdisk script letter, or NULL */
	const char *alias;      /* sfdisk alias word, or NULL */
};
extern const struct hdi_gpt_type hdi_gpt_types[];
extern const unsigned hdi_gpt_ntypes;
/* The known type with that GUID, or NULL. */
const struct hdi_gpt_type *hdi_gpt_type_by_guid(const struct hdi_guid *g);

/* ---- edits (memory only) --------------------------------------------------- */
/* Starts an empty table on dev (nothing is read or written): nentries
 * entries (0: 128), first_usable (0: just past the array), disk GUID from
 * disk_guid or, when NULL, from guid_fn. */
int hdi_gpt_new(struct hdi_gpt *g, const struct hdi_bdev *dev, uint32_t sector,
		void *buf, size_t buf_size, struct hdi_gpt_part *parts,
		uint32_t max_parts, uint32_t nentries, uint64_t first_usable,
		const struct hdi_guid *disk_guid, hdi_gpt_guid_fn guid_fn,
		void *guid_ctx);
/* Adds a partition at entry n (0: the first unused entry); uuid NULL asks
 * guid_fn. Returns the partition number, or HDI_ENOSPC (table full, or
 * max_parts reached), HDI_EBUSY (entry n in use), HDI_EINVAL. Placement
 * is checked by hdi_gpt_validate. */
int hdi_gpt_add(struct hdi_gpt *g, unsigned n, uint64_t first, uint64_t last,
		const struct hdi_guid *type, const struct hdi_guid *uuid);
/* Deletes partition n (HDI_ENOENT when unused). */
int hdi_gpt_delete(struct hdi_gpt *g, unsigned n);
/* Deletes every partition (header, disk GUID and layout stay). */
void hdi_gpt_clear(struct hdi_gpt *g);
/* Lays the table out for a disk of sectors: backup header on the last
 * sector, backup array before it, last_usable before that. HDI_EINVAL
 * when a partition would end past the new last_usable (nothing changes). */
int hdi_gpt_set_disk_sectors(struct hdi_gpt *g, uint64_t sectors);
/* Sets first/last usable (0 keeps one); HDI_EINVAL when outside the room
 * the arrays leave. */
int hdi_gpt_set_usable(struct hdi_gpt *g, uint64_t first, uint64_t last);

/* First free place in the usable range for count sectors starting on a
 * multiple of align (sectors, 0 or 1: none); want_start non-zero: exactly
 * there. count 0: all the free space there. HDI_ENOSPC when nothing fits. */
int hdi_gpt_find_space(const struct hdi_gpt *g, uint64_t align,
		       uint64_t want_start, uint64_t *count, uint64_t *start);

/* ---- validation and writing -------------------------------------------------- */
enum hdi_gpt_problem_code {
	HDI_GPT_OK = 0,
	HDI_GPT_P_EMPTY_RANGE,   /* a: last before first */
	HDI_GPT_P_OUTSIDE,       /* a: not inside first..last usable LBA */
	HDI_GPT_P_OVERLAP,       /* a, b overlap */
	HDI_GPT_P_SLOT,          /* a: beyond the table length */
	HDI_GPT_P_TYPE0,         /* a: type GUID all zero (means unused) */
	HDI_GPT_P_DUP_UUID,      /* a, b: same unique GUID */
	HDI_GPT_P_LAYOUT,        /* header layout: arrays, usable range, disk */
	HDI_GPT_P_ENTRY_SIZE,    /* entries of other than 128 bytes: not written */
	HDI_GPT_P_NO_TABLE       /* nothing was read or started */
};
struct hdi_gpt_problem {
	int code;
	unsigned a, b;
};
int hdi_gpt_validate(const struct hdi_gpt *g, struct hdi_gpt_problem *why);
/* Text of a problem code; "%a", "%b" stand for partition numbers. */
const char *hdi_gpt_problem_str(int code);
/* Validates (HDI_EINVAL, nothing written), then writes: the backup array,
 * the backup header, the primary array, the primary header, each step
 * flushed, and last the protective MBR when it is missing or does not
 * cover the disk (boot code 0..439 kept; a hybrid MBR is left alone). A
 * power cut leaves at least one valid header and array, old or new. */
int hdi_gpt_write(struct hdi_gpt *g, struct hdi_gpt_problem *why);

/* Wipes the primary and backup headers (before a DOS label replaces the
 * GPT): afterwards nothing reads the disk as GPT. */
int hdi_gpt_wipe(struct hdi_gpt *g);

#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
