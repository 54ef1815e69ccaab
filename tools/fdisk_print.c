/* tools/fdisk_print.c: fdisk's text output: `fdisk dump` in sfdisk -d's
 * format and `fdisk list` in fdisk -l's, with util-linux's type names,
 * partition names and human sizes. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "fdisk_ed.h"

static const struct { uint8_t code; const char *name; } types[] = {
	{ 0x00, "Empty" }, { 0x01, "FAT12" }, { 0x02, "XENIX root" },
	{ 0x03, "XENIX usr" }, { 0x04, "FAT16 <32M" }, { 0x05, "Extended" },
	{ 0x06, "FAT16" }, { 0x07, "HPFS/NTFS/exFAT" }, { 0x08, "AIX" },
	{ 0x09, "AIX bootable" }, { 0x0a, "OS/2 Boot Manager" },
	{ 0x0b, "W95 FAT32" }, { 0x0c, "W95 FAT32 (LBA)" },
	{ 0x0e, "W95 FAT16 (LBA)" }, { 0x0f, "W95 Ext'd (LBA)" },
	{ 0x10, "OPUS" }, { 0x11, "Hidden FAT12" },
	{ 0x12, "Compaq diagnostics" }, { 0x14, "Hidden FAT16 <32M" },
	{ 0x16, "Hidden FAT16" }, { 0x17, "Hidden HPFS/NTFS" },
	{ 0x18, "AST SmartSleep" }, { 0x1b, "Hidden W95 FAT32" },
	{ 0x1c, "Hidden W95 FAT32 (LBA)" }, { 0x1e, "Hidden W95 FAT16 (LBA)" },
	{ 0x24, "NEC DOS" }, { 0x27, "Hidden NTFS WinRE" }, { 0x39, "Plan 9" },
	{ 0x3c, "PartitionMagic recovery" }, { 0x40, "Venix 80286" },
	{ 0x41, "PPC PReP Boot" }, { 0x42, "SFS" }, { 0x4d, "QNX4.x" },
	{ 0x4e, "QNX4.x 2nd part" }, { 0x4f, "QNX4.x 3rd part" },
	{ 0x50, "OnTrack DM" }, { 0x51, "OnTrack DM6 Aux1" }, { 0x52, "CP/M" },
	{ 0x53, "OnTrack DM6 Aux3" }, { 0x54, "OnTrackDM6" },
	{ 0x55, "EZ-Drive" }, { 0x56, "Golden Bow" }, { 0x5c, "Priam Edisk" },
	{ 0x61, "SpeedStor" }, { 0x63, "GNU HURD or SysV" },
	{ 0x64, "Novell Netware 286" }, { 0x65, "Novell Netware 386" },
	{ 0x70, "DiskSecure Multi-Boot" }, { 0x75, "PC/IX" },
	{ 0x80, "Old Minix" }, { 0x81, "Minix / old Linux" },
	{ 0x82, "Linux swap / Solaris" }, { 0x83, "Linux" },
	{ 0x84, "OS/2 hidden or Intel hibernation" }, { 0x85, "Linux extended" },
	{ 0x86, "NTFS volume set" }, { 0x87, "NTFS volume set" },
	{ 0x88, "Linux plaintext" }, { 0x8e, "Linux LVM" }, { 0x93, "Amoeba" },
	{ 0x94, "Amoeba BBT" }, { 0x9f, "BSD/OS" },
	{ 0xa0, "IBM Thinkpad hibernation" }, { 0xa5, "FreeBSD" },
	{ 0xa6, "OpenBSD" }, { 0xa7, "NeXTSTEP" }, { 0xa8, "Darwin UFS" },
	{ 0xa9, "NetBSD" }, { 0xab, "Darwin boot" }, { 0xaf, "HFS / HFS+" },
	{ 0xb7, "BSDI fs" }, { 0xb8, "BSDI swap" },
	{ 0xbb, "Boot Wizard hidden" }, { 0xbc, "Acronis FAT32 LBA" },
	{ 0xbe, "Solaris boot" }, { 0xbf, "Solaris" },
	{ 0xc1, "DRDOS/sec (FAT-12)" }, { 0xc4, "DRDOS/sec (FAT-16 < 32M)" },
	{ 0xc6, "DRDOS/sec (FAT-16)" }, { 0xc7, "Syrinx" },
	{ 0xda, "Non-FS data" }, { 0xdb, "CP/M / CTOS / ..." },
	{ 0xde, "Dell Utility" }, { 0xdf, "BootIt" }, { 0xe1, "DOS access" },
	{ 0xe3, "DOS R/O" }, { 0xe4, "SpeedStor" },
	{ 0xea, "Linux extended boot" }, { 0xeb, "BeOS fs" }, { 0xee, "GPT" },
	{ 0xef, "EFI (FAT-12/16/32)" }, { 0xf0, "Linux/PA-RISC boot" },
	{ 0xf1, "SpeedStor" }, { 0xf4, "SpeedStor" }, { 0xf2, "DOS secondary" },
	{ 0xf8, "EBBR protective" }, { 0xfb, "VMware VMFS" },
	{ 0xfc, "VMware VMKCORE" }, { 0xfd, "Linux raid autodetect" },
	{ 0xfe, "LANstep" }, { 0xff, "BBT" },
};

const char *fd_type_name(uint8_t type)
{
	size_t i;
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].code == type)
			return types[i].name;
	return "unknown";
}

/* Names compare on letters and digits only, ignoring case (as libfdisk). */
static int name_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a && !isalnum((unsigned char)*a))
			a++;
		while (*b && !isalnum((unsigned char)*b))
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
		a++;
		b++;
	}
}

int fd_type_by_name(const char *name)
{
	size_t i;
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (name_eq(types[i].name, name))
			return types[i].code;
	return -1;
}

void fd_partname(char *out, size_t size, const char *image, unsigned n)
{
	size_t w = strlen(image);
	const char *p = "";
	if (w && isdigit((unsigned char)image[w - 1]))
		p = "p";
	if (w >= 4 && !strcmp(image + w - 4, "disc")) {
		w -= 4;
		p = "part";
	}
	snprintf(out, size, "%.*s%s%u", (int)w, image, p, n);
}

/* One decimal digit, rounded half up from the exact fraction, as
 * util-linux's size_to_human_string (a .0 is dropped). */
void fd_human(char *out, size_t size, uint64_t bytes, int space3)
{
	static const char letters[] = "BKMGTPE";
	int exp = 0;
	uint64_t dec, frac = 0;
	char suffix[5], *s = suffix;
	while (exp < 60 && bytes >= (1ull << (exp + 10)))
		exp += 10;
	dec = bytes >> exp;
	if (exp)
		frac = bytes & ((1ull << exp) - 1);
	if (space3)
		*s++ = ' ';
	*s++ = letters[exp / 10];
	if (space3 && exp) {
		*s++ = 'i';
		*s++ = 'B';
	}
	*s = 0;
	if (frac) {
		if (frac >= UINT64_MAX / 1000)
			frac = ((frac / 1024) * 1000) / (1ull << (exp - 10));
		else
			frac = (frac * 1000) / (1ull << exp);
		frac = ((frac + 50) / 100) * 10;
		if (frac == 100) {
			dec++;
			frac = 0;
		}
	}
	if (frac)
		snprintf(out, size, "%llu.%llu%s", (unsigned long long)dec,
			 (unsigned long long)(frac / 10), suffix);
	else
		snprintf(out, size, "%llu%s", (unsigned long long)dec, suffix);
}

/* sfdisk lists a primary slot when any of its bytes is set, and every
 * logical partition of the chain; numbers in slot, then chain, order. */
static const struct hdi_mbr_part *listed(const struct hdi_mbr *m, unsigned n)
{
	const struct hdi_mbr_part *p = hdi_mbr_get(m, n);
	if (p && n <= HDI_MBR_PRIMARIES && !hdi_mbr_slot_used(p))
		return NULL;
	return p;
}

/* What libfdisk tells while reading a chain with empty EBRs. */
static void print_omitted(FILE *f, const struct hdi_mbr *m)
{
	unsigned i;
	for (i = 0; i < m->nomitted && i < HDI_MBR_OMIT_MAX; i++)
		fprintf(f, "omitting empty partition (%u)\n", m->omitted[i]);
}

void fd_print_dump(FILE *f, const char *image, const struct hdi_mbr *m)
{
	unsigned n, nlisted = 0;
	char name[4096];
	print_omitted(f, m);
	fprintf(f, "label: dos\nlabel-id: 0x%08x\ndevice: %s\nunit: sectors\n",
		(unsigned)m->disk_id, image);
	/* libfdisk's grain drops from 1 MiB to a sector on disks up to 4 MiB,
	 * and sfdisk -d says so. */
	if (m->disk_sectors <= 8192)
		fprintf(f, "grain: 512\n");
	fprintf(f, "sector-size: 512\n");
	for (n = 1; n <= hdi_mbr_count(m); n++) {
		const struct hdi_mbr_part *p = listed(m, n);
		if (!p)
			continue;
		if (!nlisted++)
			fputc('\n', f);
		fd_partname(name, sizeof name, image, n);
		fprintf(f, "%s : start=%12lu, size=%12lu, type=%x%s\n", name,
			(unsigned long)p->start, (unsigned long)p->count, p->type,
			p->status == HDI_MBR_ACTIVE ? ", bootable" : "");
	}
}

/* ---- fdisk -l ------------------------------------------------------------- */

enum { C_DEV, C_BOOT, C_START, C_END, C_SECTORS, C_SIZE, C_ID, C_TYPE, NCOL };
static const char *const heads[NCOL] = { "Device", "Boot", "Start", "End",
	"Sectors", "Size", "Id", "Type" };
/* libfdisk's width hints for the dos columns; number columns go right. */
static const unsigned hints[NCOL] = { 10, 1, 5, 5, 5, 5, 2, 0 };
static const int right[NCOL] = { 0, 0, 1, 1, 1, 1, 1, 0 };

#define CELL 64
struct row { char *dev; char c[NCOL][CELL]; };

static const char *cell(const struct row *r, unsigned c)
{
	return c == C_DEV ? r->dev : r->c[c];
}

static int fill_row(struct row *r, const char *image, unsigned n,
		    const struct hdi_mbr_part *p)
{
	size_t dl = strlen(image) + 16;
	r->dev = malloc(dl);
	if (!r->dev)
		return -1;
	fd_partname(r->dev, dl, image, n);
	snprintf(r->c[C_BOOT], CELL, "%s", p->status == HDI_MBR_ACTIVE ? "*" : "");
	snprintf(r->c[C_START], CELL, "%lu", (unsigned long)p->start);
	snprintf(r->c[C_END], CELL, "%llu", (unsigned long long)
		 ((uint64_t)p->start + p->count - (p->count ? 1 : 0)));
	snprintf(r->c[C_SECTORS], CELL, "%lu", (unsigned long)p->count);
	fd_human(r->c[C_SIZE], CELL, (uint64_t)p->count << 9, 0);
	snprintf(r->c[C_ID], CELL, "%x", p->type);
	snprintf(r->c[C_TYPE], CELL, "%s", fd_type_name(p->type));
	return 0;
}

/* libsmartcols' width rule on a non-terminal: the widest cell, at least
 * the header; a column narrower than its hint grows to the hint only when
 * its header is narrower than the hint too. */
static size_t col_width(const struct fd_cols *t, unsigned c,
			const char *const *cells, unsigned nrows)
{
	size_t mn = strlen(t->heads[c]), wd = 0;
	unsigned i;
	for (i = 0; i < nrows; i++)
		if (strlen(cells[i * t->n + c]) > wd)
			wd = strlen(cells[i * t->n + c]);
	if (wd < mn)
		wd = mn;
	else if (t->hints[c] >= 1 && wd < t->hints[c] && mn < t->hints[c])
		wd = t->hints[c];
	return wd;
}

static void print_line(FILE *f, const struct fd_cols *t,
		       const char *const *cells, const size_t *w)
{
	unsigned c;
	for (c = 0; c < t->n; c++) {
		int last = c + 1 == t->n;
		if (t->right[c])
			fprintf(f, "%*s", (int)w[c], cells[c]);
		else if (last)
			fputs(cells[c], f);
		else
			fprintf(f, "%-*s", (int)w[c], cells[c]);
		fputc(last ? '\n' : ' ', f);
	}
}

void fd_table(FILE *f, const struct fd_cols *t, const char *const *cells,
	      unsigned nrows)
{
	size_t w[FD_COLS_MAX];
	unsigned c, i;
	for (c = 0; c < t->n && c < FD_COLS_MAX; c++)
		w[c] = col_width(t, c, cells, nrows);
	print_line(f, t, t->heads, w);
	for (i = 0; i < nrows; i++)
		print_line(f, t, cells + i * t->n, w);
}

void fd_print_disk(FILE *f, const char *image, uint64_t bytes, uint32_t sector)
{
	char human[32];
	fd_human(human, sizeof human, bytes, 1);
	fprintf(f, "Disk %s: %s, %llu bytes, %llu sectors\n", image, human,
		(unsigned long long)bytes, (unsigned long long)(bytes / sector));
	fprintf(f, "Units: sectors of 1 * %u = %u bytes\n"
		"Sector size (logical/physical): %u bytes / %u bytes\n"
		"I/O size (minimum/optimal): %u bytes / %u bytes\n",
		sector, sector, sector, sector, sector, sector);
}

void fd_print_list(FILE *f, const char *image, const struct hdi_mbr *m)
{
	static const struct fd_cols cols = { NCOL, heads, hints, right };
	struct row rows[HDI_MBR_PRIMARIES + HDI_MBR_MAX_LOGICAL];
	const char *cells[(HDI_MBR_PRIMARIES + HDI_MBR_MAX_LOGICAL) * NCOL];
	uint64_t bytes = m->disk_sectors << 9, last = 0;
	unsigned n, nrows = 0, i, c;
	int order_bad = 0;
	print_omitted(f, m);
	fd_print_disk(f, image, bytes, 512);
	if (m->kind == HDI_MBR_NONE)
		return;
	if (m->kind == HDI_MBR_GPT) {
		fprintf(f, "Disklabel type: gpt\n");
		return;
	}
	fprintf(f, "Disklabel type: dos\nDisk identifier: 0x%08x\n",
		(unsigned)m->disk_id);
	for (n = 1; n <= hdi_mbr_count(m); n++) {
		const struct hdi_mbr_part *p = listed(m, n);
		if (!p || fill_row(&rows[nrows], image, n, p) < 0)
			continue;
		nrows++;
		if (p->start < last)
			order_bad = 1;
		last = p->start;
	}
	if (!nrows)
		return;
	for (i = 0; i < nrows; i++)
		for (c = 0; c < NCOL; c++)
			cells[i * NCOL + c] = cell(&rows[i], c);
	fputc('\n', f);
	fd_table(f, &cols, cells, nrows);
	for (i = 0; i < nrows; i++)
		free(rows[i].dev);
	if (order_bad)
		fprintf(f, "\nPartition table entries are not in disk order.\n");
}
