/* hdi/mbr.h: MBR (DOS) partition tables on any hdi_bdev: read, edit in
 * memory, validate, write; extended partitions with their EBR chain.
 *
 * Concurrency: one struct hdi_mbr is used by one thread at a time (calls
 * on it must not overlap); different tables may be used at once, on
 * different devices. */
#ifndef HDI_MBR_H
#define HDI_MBR_H

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

/* ---- on-disk layout (512-byte sectors, little-endian) ------------------ */
#define HDI_MBR_SECTOR          512u
#define HDI_MBR_OFF_BOOTCODE    0u     /* 440 bytes of boot code */
#define HDI_MBR_BOOTCODE_SIZE   440u
#define HDI_MBR_OFF_DISK_ID     440u   /* 32-bit disk signature */
#define HDI_MBR_OFF_RESERVED    444u   /* 2 bytes, usually 0 */
#define HDI_MBR_OFF_TABLE       446u   /* four 16-byte entries */
#define HDI_MBR_ENTRY_SIZE      16u
#define HDI_MBR_OFF_MAGIC       510u   /* 0x55 0xAA */
/* Offsets inside one entry. */
#define HDI_MBR_PE_STATUS       0u     /* 0x00, or 0x80 = active */
#define HDI_MBR_PE_CHS_FIRST    1u     /* head, sector|cyl>>2&0xC0, cyl&0xFF */
#define HDI_MBR_PE_TYPE         4u
#define HDI_MBR_PE_CHS_LAST     5u
#define HDI_MBR_PE_LBA          8u     /* u32: first sector */
#define HDI_MBR_PE_COUNT        12u    /* u32: number of sectors */

#define HDI_MBR_ACTIVE          0x80u
#define HDI_MBR_TYPE_EMPTY      0x00u
#define HDI_MBR_TYPE_EXT        0x05u  /* DOS extended (also the EBR link type) */
#define HDI_MBR_TYPE_EXT_LBA    0x0Fu  /* W95 extended (LBA) */
#define HDI_MBR_TYPE_EXT_LINUX  0x85u
#define HDI_MBR_TYPE_GPT        0xEEu  /* protective MBR of a GPT disk */

/* Primary slots 1..4; logical partitions are numbered 5.. in chain order. */
#define HDI_MBR_PRIMARIES       4u
#define HDI_MBR_MAX_LOGICAL     56u    /* 60 partitions in all, as libfdisk */

/* Sector buffer the caller lends to every call that does I/O: one sector,
 * plus a bounce buffer of one granule when the device's granule is larger
 * than a sector. HDI_MBR_BUF_MAX fits any device. */
#define HDI_MBR_BUF_SIZE(granule) \
	(HDI_MBR_SECTOR + ((granule) > HDI_MBR_SECTOR ? (uint32_t)(granule) : 0u))
#define HDI_MBR_BUF_MAX HDI_MBR_BUF_SIZE(HDI_GRANULE_MAX)

/* Largest disk position a 32-bit LBA can express: 2 TiB. */
#define HDI_MBR_MAX_SECTORS     0x100000000ull

struct hdi_mbr_part {
	uint32_t start;    /* absolute first sector (logicals too) */
	uint32_t count;    /* sectors */
	uint32_t ebr;      /* logical: sector of the EBR describing it; else 0 */
	uint8_t type;      /* 0: slot unused */
	uint8_t status;    /* as stored: 0x00, or 0x80 active */
	uint8_t chs[6];    /* first and last CHS, as stored or as computed */
	uint8_t flags;     /* managed by the library (core/mbr_int.h) */
};

enum hdi_mbr_kind {
	HDI_MBR_NONE = 0,  /* no 55 AA: a write creates a new table */
	HDI_MBR_DOS,       /* an MBR partition table */
	HDI_MBR_GPT        /* protective (or hybrid) MBR: reported, never edited */
};

#define HDI_MBR_OMIT_MAX   8u

/* The whole table in memory (about 1.5 KiB). Edits change only this;
 * hdi_mbr_write validates and then writes what changed. */
struct hdi_mbr {
	const struct hdi_bdev *dev;
	uint8_t *buf;                /* the caller's HDI_MBR_BUF_SIZE buffer */
	uint64_t disk_sectors;       /* whole 512-byte sectors on the device */
	uint32_t disk_id;            /* signature, bytes 440..443 */
	uint16_t heads;              /* geometry for CHS: 1..255 heads */
	uint8_t sectors;             /* 1..63 sectors per track */
	uint8_t kind;                /* enum hdi_mbr_kind */
	uint8_t dirty;               /* managed by the library (core/mbr_int.h) */
	uint8_t nlogical;
	uint8_t ext;                 /* 1-based slot of the extended partition; 0 none */
	/* EBRs without a logical partition, skipped while reading: the
	 * numbers they would have had (libfdisk says "omitting empty
	 * partition (N)"); only the first HDI_MBR_OMIT_MAX are kept. */
	uint8_t nomitted;
	uint8_t omitted[HDI_MBR_OMIT_MAX];
	struct hdi_mbr_part p[HDI_MBR_PRIMARIES];
	struct hdi_mbr_part l[HDI_MBR_MAX_LOGICAL];
};

/* Reads sector 0 and the EBR chain of dev. buf (buf_size bytes, at least
 * HDI_MBR_BUF_SIZE(dev->granule)) stays in use until the last call on m.
 * A disk without 55 AA reads as an empty HDI_MBR_NONE table. The default
 * geometry comes from the disk size (hdi_mbr_default_geometry). */
int hdi_mbr_read(struct hdi_mbr *m, const struct hdi_bdev *dev, void *buf,
		 size_t buf_size);

/* Default geometry for a disk of that many sectors, as BIOS LBA-assist
 * picks it: 63 sectors per track; 16 heads up to 504 MiB, 32 up to 1 GiB,
 * 64 up to 2 GiB, 128 up to 4 GiB, else 255. */
void hdi_mbr_default_geometry(uint64_t disk_sectors, uint16_t *heads,
			      uint8_t *sectors);
/* Overrides the geometry used for CHS values written from now on. */
int hdi_mbr_set_geometry(struct hdi_mbr *m, unsigned heads, unsigned sectors);
/* The 3 CHS bytes of lba; past cylinder 1023 it is 1023/heads-1/sectors. */
void hdi_mbr_lba_to_chs(uint32_t lba, unsigned heads, unsigned sectors,
			uint8_t out[3]);

static inline bool hdi_mbr_is_extended(uint8_t type)
{
	return type == HDI_MBR_TYPE_EXT || type == HDI_MBR_TYPE_EXT_LBA ||
	       type == HDI_MBR_TYPE_EXT_LINUX;
}
/* A primary slot is in use when any of its 16 bytes is non-zero. */
bool hdi_mbr_slot_used(const struct hdi_mbr_part *p);
/* Partition n (1..4 primary slot, 5.. logical), NULL when out of range. */
const struct hdi_mbr_part *hdi_mbr_get(const struct hdi_mbr *m, unsigned n);
/* Number of the highest partition (4 + nlogical). */
unsigned hdi_mbr_count(const struct hdi_mbr *m);
/* Byte range of partition n on the disk (ENOENT for an unused slot). */
int hdi_mbr_range(const struct hdi_mbr *m, unsigned n, uint64_t *off,
		  uint64_t *len);

/* ---- edits (memory only; HDI_EUNSUPP on a GPT disk) --------------------- */
/* Puts a partition in primary slot n (1..4), replacing what was there.
 * An extended type makes it the extended partition (empty chain). */
int hdi_mbr_set_primary(struct hdi_mbr *m, unsigned n, uint32_t start,
			uint32_t count, uint8_t type, bool active);
/* Appends logical partition (number returned, >= 5) described by an EBR at
 * sector ebr. The first logical's EBR must be the extended start. */
int hdi_mbr_add_logical(struct hdi_mbr *m, uint32_t ebr, uint32_t start,
			uint32_t count, uint8_t type, bool active);
/* Deletes partition n: a primary slot is zeroed (an extended takes its
 * logicals along); a logical leaves the chain, later ones renumber. */
int hdi_mbr_delete(struct hdi_mbr *m, unsigned n);
/* Starts a new, empty table whatever sector 0 held (a GPT's protective
 * MBR too): the next write keeps only the boot code (0..439) and writes
 * disk_id and four empty entries. */
void hdi_mbr_reset(struct hdi_mbr *m, uint32_t disk_id);
/* Deletes every partition; boot code and signature stay. */
int hdi_mbr_clear(struct hdi_mbr *m);
/* Type or active flag of partition n; CHS and position stay. Changing a
 * partition to or from an extended type is refused. */
int hdi_mbr_set_type(struct hdi_mbr *m, unsigned n, uint8_t type);
int hdi_mbr_set_active(struct hdi_mbr *m, unsigned n, bool active);
int hdi_mbr_set_disk_id(struct hdi_mbr *m, uint32_t id);

/* ---- placement ------------------------------------------------------------ */
#define HDI_MBR_ALIGN_CYLINDER 0u   /* align argument: cylinder boundaries */
enum hdi_mbr_where { HDI_MBR_PRIMARY, HDI_MBR_LOGICAL };
/* First free place for count sectors. align is HDI_MBR_ALIGN_CYLINDER (a
 * partition starts on a cylinder, or on track 1 in cylinder 0; a logical's
 * EBR on a cylinder, its data one track later) or a sector multiple N (a
 * logical's data at the first multiple at least N past the free space, its
 * EBR N sectors before the data: sfdisk's placement).
 * When want_start is non-zero the partition starts exactly there. count 0
 * means all the free space there. Returns ENOSPC when nothing fits. */
int hdi_mbr_find_space(const struct hdi_mbr *m, enum hdi_mbr_where where,
		       uint32_t align, uint32_t want_start, uint32_t *count,
		       uint32_t *ebr, uint32_t *start);

/* ---- validation and writing ---------------------------------------------- */
enum hdi_mbr_problem_code {
	HDI_MBR_OK = 0,
	HDI_MBR_P_SIZE0,        /* a: has no sectors */
	HDI_MBR_P_TYPE0,        /* a: has sectors but type 0 (empty) */
	HDI_MBR_P_STATUS,       /* a: status byte neither 0x00 nor 0x80 */
	HDI_MBR_P_SECTOR0,      /* a: covers sector 0 */
	HDI_MBR_P_PAST_END,     /* a: ends past the end of the disk */
	HDI_MBR_P_PAST_2TIB,    /* a: ends past 2 TiB (32-bit LBA) */
	HDI_MBR_P_TWO_EXT,      /* a, b: two extended partitions */
	HDI_MBR_P_OVERLAP,      /* a, b: overlap (or one contains the other) */
	HDI_MBR_P_OUTSIDE_EXT,  /* a: logical not inside the extended one */
	HDI_MBR_P_EBR_OUTSIDE,  /* a: its EBR is not inside the extended one */
	HDI_MBR_P_FIRST_EBR,    /* a: first EBR is not at the extended start */
	HDI_MBR_P_COVERS_EBR,   /* a covers the EBR of b */
	HDI_MBR_P_LOGICAL_EXT,  /* a: logical with an extended type */
	HDI_MBR_P_NO_EXT,       /* a: logical without an extended partition */
	HDI_MBR_P_SHARED_EBR,   /* a, b: logicals described by the same EBR */
	HDI_MBR_P_GPT           /* the disk is GPT: not edited */
};
struct hdi_mbr_problem {
	int code;          /* enum hdi_mbr_problem_code */
	unsigned a, b;     /* partition numbers involved (0: none) */
};
/* Checks the whole table: HDI_OK, or HDI_EINVAL with the first problem in
 * *why (may be NULL). Stricter than sfdisk. */
int hdi_mbr_validate(const struct hdi_mbr *m, struct hdi_mbr_problem *why);
/* Static text for a problem code; "%a" and "%b" stand for its partition
 * numbers (the caller substitutes them). */
const char *hdi_mbr_problem_str(int code);
/* Validates (refusing with HDI_EINVAL and writing nothing), then writes the
 * changed EBRs (a new one before anything points at it) and sector 0,
 * keeping boot code, signature and untouched entries byte for byte. Each
 * sector is flushed before the next is written, so a power cut during one
 * change (one create, delete or set) leaves the old or the new table; many
 * changes in one write (a whole new table) are not atomic. */
int hdi_mbr_write(struct hdi_mbr *m, struct hdi_mbr_problem *why);

/* Installs boot code (440 bytes) in sector 0; signature and table stay. */
int hdi_mbr_write_bootcode(const struct hdi_bdev *dev, void *buf,
			   size_t buf_size, const uint8_t *code);

/* ---- a partition as a block device ------------------------------------------ */
/* A window on partition n (core/bdev_view.c). HDI_EINVAL when its start
 * is not aligned to the parent's granule. */
int hdi_mbr_partdev_init(struct hdi_bdev_view *pd, const struct hdi_mbr *m,
			 unsigned n);

#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
