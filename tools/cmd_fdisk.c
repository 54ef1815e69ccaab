/* tools/cmd_fdisk.c: `edqcow2 IMAGE fdisk ...` (the seed's create, and
 * list, dump, apply, delete, set, signature), `bootcode` and `partition`,
 * on raw and qcow2 images alike through the image's virtual disk. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fdisk_ed.h"

static const char usage_text[] =
"usage: edqcow2 IMAGE fdisk COMMAND ...\n"
"  create PrimaryPartition|ExtendedPartition|LogicalPartition SIZE\n"
"         [--type TYPE] [--start LBA] [--bootable|--no-bootable]\n"
"         [--align cylinder|1M|SECTORS] [--geometry HEADS/SECTORS]\n"
"         [--name NAME] [--uuid GUID] [--attrs ATTRS]   (GPT)\n"
"  create-label dos|gpt [--force] [--label-id ID] [--table-length N]\n"
"                          start an empty table (--force: over an existing one)\n"
"  list                    the table as fdisk -l shows it\n"
"  dump                    the table as sfdisk -d writes it\n"
"  apply SCRIPT|- [--align ...] [--geometry H/S]   replace the table (sfdisk script)\n"
"  delete N\n"
"  set N [--type TYPE] [--bootable|--no-bootable] [--name NAME] [--uuid GUID]\n"
"        [--attrs ATTRS]\n"
"  signature [ID]          show or set the disk signature (GPT: the disk GUID)\n"
"Every command takes --sector-size 512|4096 (a GPT's logical sector) and\n"
"--seed N (GUIDs from a fixed sequence, for reproducible images).\n"
"SIZE is bytes (K/M/G/T suffixes), a multiple of the sector. MBR: partitions\n"
"1-4 are primary slots, 5 and up the logical partitions in chain order; TYPE\n"
"is hex. GPT: any partition kind name makes a GPT partition; TYPE is a GUID,\n"
"an sfdisk shortcut (L S H U R V), alias or fdisk -l name; ATTRS as sfdisk\n"
"writes them (RequiredPartition NoBlockIOProtocol LegacyBIOSBootable GUID:48).\n"
"usage: edqcow2 IMAGE bootcode FILE      (440, 446 or 512 bytes)\n"
"usage: edqcow2 IMAGE partition N write FILE|- [--offset BYTES]\n"
"       edqcow2 IMAGE partition N read [OFFSET LENGTH]\n";

/* ---- shared helpers --------------------------------------------------------- */

/* create-label --force: a GPT that cannot be read is replaced anyway. */
static int allow_bad_gpt;

/* What fdisk says about a GPT it had to repair in memory (its words, so
 * `fdisk list` and `fdisk -l` agree), then what exactly was wrong. */
static void gpt_report(const struct fd_ctx *c)
{
	unsigned st = c->g.status, i;
	const char *img = c->im.path;
	uint64_t last = c->g.disk_sectors - 1;
	uint32_t ee = 0;
	for (i = 0; i < HDI_MBR_PRIMARIES; i++)
		if (c->m.p[i].type == HDI_MBR_TYPE_GPT && !ee)
			ee = c->m.p[i].count;
	if (st & HDI_GPT_S_PMBR_SIZE)
		fprintf(stderr, "GPT PMBR size mismatch (%lu != %llu) will be "
			"corrected by write.\n", (unsigned long)ee,
			(unsigned long long)(last < 0xFFFFFFFFu ? last : 0xFFFFFFFFu));
	if (st & HDI_GPT_S_USED_BACKUP) {
		fprintf(stderr, "The primary GPT table is corrupt, but the backup "
			"appears OK, so that will be used.\n");
		fprintf(stderr, "edqcow2: %s: primary GPT: %s\n", img,
			st & HDI_GPT_S_PRIMARY_BAD ? "the header at LBA 1 is invalid "
			"(signature, CRC or fields)" : "the entry array CRC does not match");
	} else if (st & HDI_GPT_S_BACKUP_BAD) {
		fprintf(stderr, "The backup GPT table is corrupt, but the primary "
			"appears OK, so that will be used.\n");
		fprintf(stderr, "edqcow2: %s: backup GPT: %s\n", img,
			st & HDI_GPT_S_BACKUP_ARRAY ? "the entry array CRC does not match" :
			"no valid header where the primary says");
	}
	if (st & HDI_GPT_S_BACKUP_NOT_END)
		fprintf(stderr, "The backup GPT table is not on the end of the device.\n");
	if (st & HDI_GPT_S_MISMATCH)
		fprintf(stderr, "edqcow2: %s: the primary and backup GPT headers "
			"describe different tables; the primary is used.\n", img);
}

static int gpt_open(struct fd_ctx *c, const char *image, int rdwr)
{
	c->is_gpt = 1;
	c->gpt_r = hdi_gpt_read(&c->g, c->im.disk, fd_sector, c->gbuf,
				sizeof c->gbuf, c->gparts, FD_GPT_MAXP);
	/* No GPT in 512-byte sectors and no --sector-size: a 4Kn disk's
	 * table is found in 4096-byte ones (it is the same disk then). */
	if (c->gpt_r == HDI_ECORRUPT && !fd_sector_given &&
	    hdi_gpt_read(&c->g, c->im.disk, 4096, c->gbuf, sizeof c->gbuf,
			 c->gparts, FD_GPT_MAXP) == HDI_OK &&
	    c->g.kind == HDI_GPT_VALID && !(c->g.status & HDI_GPT_S_USED_BACKUP)) {
		fd_sector = 4096;
		c->gpt_r = HDI_OK;
	} else if (c->gpt_r == HDI_ECORRUPT && !fd_sector_given) {
		c->gpt_r = hdi_gpt_read(&c->g, c->im.disk, fd_sector, c->gbuf,
					sizeof c->gbuf, c->gparts, FD_GPT_MAXP);
	}
	c->g.guid_fn = fd_guid;
	c->g.guid_ctx = &c->g;
	if (c->gpt_r == HDI_OK && c->g.kind == HDI_GPT_VALID) {
		if (!rdwr)
			gpt_report(c);
		return 0;
	}
	if (allow_bad_gpt)
		return 0;
	if (c->gpt_r == HDI_ENOMEM)
		return ed_err(image, "the GPT has more than %u partitions", FD_GPT_MAXP);
	if (c->gpt_r < 0 && c->gpt_r != HDI_ECORRUPT)
		return ed_err_code(&c->im, "reading the GPT", c->gpt_r);
	return ed_err(image, "the disk has a protective MBR but no valid GPT: "
		      "both the primary and the backup header (or their entry "
		      "arrays) are damaged (in %u-byte sectors%s)", (unsigned)fd_sector,
		      fd_sector_given ? "" : " and in 4096-byte ones");
}

int fd_open(struct fd_ctx *c, const char *image, int rdwr)
{
	int r;
	memset(c, 0, sizeof(*c));
	if (ed_open(&c->im, image, rdwr ? ED_OPEN_RDWR : 0) < 0)
		return 1;
	c->open = 1;
	r = hdi_mbr_read(&c->m, c->im.disk, c->buf, sizeof c->buf);
	/* ECORRUPT from the qcow2 layer carries its own detail. */
	if (r == HDI_ECORRUPT && !(c->im.is_qcow2 && *hdi_qcow2_errmsg(&c->im.q)))
		ed_err(image, "the EBR chain of the extended partition is broken "
		       "(loops or points past the disk)");
	else if (r == HDI_EUNSUPP)
		ed_err(image, "more than %u logical partitions", HDI_MBR_MAX_LOGICAL);
	else if (r == HDI_EINVAL)
		ed_err(image, "the disk is smaller than one sector");
	else if (r < 0)
		ed_err_code(&c->im, "reading the partition table", r);
	if (r < 0 || (c->m.kind == HDI_MBR_GPT && gpt_open(c, image, rdwr))) {
		fd_close(c, 1);
		return 1;
	}
	return 0;
}

int fd_close(struct fd_ctx *c, int rc)
{
	int r = 0;
	if (c->open)
		r = ed_close(&c->im);
	c->open = 0;
	return rc ? rc : (r ? 1 : 0);
}

/* A problem's text ("%a" and "%b" stand for its two numbers) as the line
 * every refused edit prints. */
static int refuse_text(const char *image, const char *s, unsigned a, unsigned b)
{
	char msg[256];
	size_t o = 0;
	for (; *s && o + 12 < sizeof msg; s++) {
		if (s[0] == '%' && (s[1] == 'a' || s[1] == 'b')) {
			o += (size_t)snprintf(msg + o, sizeof msg - o, "%u",
					      s[1] == 'a' ? a : b);
			s++;
		} else {
			msg[o++] = *s;
		}
	}
	msg[o] = 0;
	return ed_err(image, "refused, nothing written: %s", msg);
}

int fd_refuse(const char *image, const struct hdi_mbr_problem *why)
{
	return refuse_text(image, hdi_mbr_problem_str(why->code), why->a, why->b);
}

int fd_gpt_refuse_why(const char *image, const struct hdi_gpt_problem *why)
{
	return refuse_text(image, hdi_gpt_problem_str(why->code), why->a, why->b);
}

int fd_gpt_refuse(struct fd_ctx *c)
{
	if (!c->is_gpt)
		return 0;
	ed_err(c->im.path, "the disk is GPT; this is an MBR-only option");
	return 1;
}

/* An edit also puts the backup at the end of a disk that changed size
 * (fdisk's "will be corrected by write"); when a partition is in the way
 * the table stays as it is and validation says why. */
static void gpt_to_disk_end(struct fd_ctx *c)
{
	if (c->is_gpt && c->g.kind == HDI_GPT_VALID &&
	    c->g.alt_lba != c->g.disk_sectors - 1)
		hdi_gpt_set_disk_sectors(&c->g, c->g.disk_sectors);
}

int fd_edit(const char *image, fd_edit_fn fn, void *arg)
{
	struct fd_ctx *c = malloc(sizeof(*c));
	struct hdi_mbr_problem why;
	struct hdi_gpt_problem gwhy;
	int rc, r;
	if (!c)
		return ed_err(image, "out of memory");
	fd_guid_restart();
	rc = fd_open(c, image, 0);
	if (!rc)
		gpt_to_disk_end(c);
	if (!rc)
		rc = fn(c, arg, 0);
	if (!rc && c->is_gpt && hdi_gpt_validate(&c->g, &gwhy) < 0)
		rc = fd_gpt_refuse_why(image, &gwhy);
	else if (!rc && !c->is_gpt && hdi_mbr_validate(&c->m, &why) < 0)
		rc = fd_refuse(image, &why);
	rc = fd_close(c, rc);
	if (rc) {
		free(c);
		return rc;
	}
	fd_guid_restart();
	rc = fd_open(c, image, 1);
	if (!rc)
		gpt_to_disk_end(c);
	if (!rc)
		rc = fn(c, arg, 1);
	if (!rc && c->is_gpt) {
		r = hdi_gpt_write(&c->g, &gwhy);
		if (r == HDI_EINVAL)
			rc = fd_gpt_refuse_why(image, &gwhy);
		else if (r < 0)
			rc = ed_err_code(&c->im, "writing the GPT", r);
	} else if (!rc) {
		r = hdi_mbr_write(&c->m, &why);
		if (r == HDI_EINVAL)
			rc = fd_refuse(image, &why);
		else if (r < 0)
			rc = ed_err_code(&c->im, "writing the partition table", r);
		/* A DOS label replacing a GPT: the GPT headers go after the
		 * MBR no longer protects them. */
		if (!rc && c->wipe_gpt && (r = hdi_gpt_wipe(&c->g)) < 0)
			rc = ed_err_code(&c->im, "wiping the old GPT headers", r);
	}
	rc = fd_close(c, rc);
	free(c);
	return rc;
}

int fd_parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long long x;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x > 0xFFFFFFFFull)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int fd_parse_hex_type(const char *s, uint8_t *type)
{
	char *end;
	unsigned long x;
	if (!s || !isxdigit((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoul(s, &end, 16);
	if (errno || *end || x == 0 || x > 0xFF)
		return -1;
	*type = (uint8_t)x;
	return 0;
}

int fd_parse_geometry(const char *s, unsigned *heads, unsigned *sectors)
{
	char *end;
	unsigned long h, sp;
	errno = 0;
	h = strtoul(s, &end, 10);
	if (errno || end == s || *end != '/')
		return -1;
	s = end + 1;
	sp = strtoul(s, &end, 10);
	if (errno || end == s || *end || h < 1 || h > 255 || sp < 1 || sp > 63)
		return -1;
	*heads = (unsigned)h;
	*sectors = (unsigned)sp;
	return 0;
}

int fd_parse_align(const char *s, uint32_t *align)
{
	uint64_t b;
	if (!strcasecmp(s, "cylinder") || !strcasecmp(s, "cyl")) {
		*align = HDI_MBR_ALIGN_CYLINDER;
		return 0;
	}
	if (isdigit((unsigned char)s[strlen(s) - 1]))
		return fd_parse_u32(s, align) < 0 || !*align ? -1 : 0;
	if (ed_parse_size(s, &b) < 0 || !b || (b & 511) || (b >> 9) > 0xFFFFFFFFu)
		return -1;
	*align = (uint32_t)(b >> 9);
	return 0;
}

/* ---- options ---------------------------------------------------------------- */

struct opts {
	const char *type, *start, *align, *geometry, *offset;
	const char *name, *uuid, *attrs, *label_id, *table_length;
	int bootable;                     /* -1: not given */
	int force;
	const char *pos[4];
	int npos;
};

/* allowed: the option names this command takes, e.g. "type,start". */
static int parse_opts(const char *image, int argc, char **argv,
		      const char *allowed, struct opts *o)
{
	int i;
	memset(o, 0, sizeof(*o));
	o->bootable = -1;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		const char **slot = NULL;
		char name[32];
		size_t nl;
		if (strncmp(a, "--", 2) || !a[2]) {
			if (o->npos == 4)
				return ed_err(image, "too many arguments ('%s')", a);
			o->pos[o->npos++] = a;
			continue;
		}
		eq = strchr(a, '=');
		nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (nl >= sizeof name)
			return ed_err(image, "unknown option '%s'", a);
		memcpy(name, a + 2, nl);
		name[nl] = 0;
		if (!strstr(allowed, name))
			return ed_err(image, "unknown option '%s' (try --help)", a);
		if (!strcmp(name, "bootable") || !strcmp(name, "no-bootable")) {
			o->bootable = name[0] == 'b';
			continue;
		}
		if (!strcmp(name, "force")) {
			o->force = 1;
			continue;
		}
		if (!strcmp(name, "type")) slot = &o->type;
		else if (!strcmp(name, "name")) slot = &o->name;
		else if (!strcmp(name, "uuid")) slot = &o->uuid;
		else if (!strcmp(name, "attrs")) slot = &o->attrs;
		else if (!strcmp(name, "label-id")) slot = &o->label_id;
		else if (!strcmp(name, "table-length")) slot = &o->table_length;
		else if (!strcmp(name, "start")) slot = &o->start;
		else if (!strcmp(name, "align")) slot = &o->align;
		else if (!strcmp(name, "geometry")) slot = &o->geometry;
		else if (!strcmp(name, "offset")) slot = &o->offset;
		else
			return ed_err(image, "unknown option '%s' (try --help)", a);
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		if (!val || (!*val && slot != &o->name && slot != &o->attrs))
			return ed_err(image, "option '--%s' needs a value", name);
		*slot = val;
	}
	return 0;
}

static int apply_geometry(struct fd_ctx *c, const char *g)
{
	unsigned h, s;
	if (!g)
		return 0;
	if (fd_parse_geometry(g, &h, &s) < 0)
		return ed_err(c->im.path, "bad --geometry '%s' (HEADS/SECTORS, 1-255/1-63)", g);
	hdi_mbr_set_geometry(&c->m, h, s);
	return 0;
}

static int parse_partno(const char *image, const char *s, unsigned *n)
{
	uint32_t v;
	if (!s || fd_parse_u32(s, &v) < 0 || v < 1 || v > HDI_GPT_MAX_ENTRIES)
		return ed_err(image, "bad partition number '%s'", s ? s : "");
	*n = v;
	return 0;
}

/* ---- fdisk create -------------------------------------------------------------- */

enum kind { K_PRIMARY, K_EXTENDED, K_LOGICAL };

struct create_args {
	enum kind kind;
	uint32_t count, start, align;
	uint8_t type;
	int bootable, has_type, has_align;
	const char *geometry, *size_text, *type_text;
	uint64_t bytes, start64;
	struct fd_gpt_fields gf;
};

static int any_active(const struct hdi_mbr *m)
{
	unsigned n;
	for (n = 1; n <= hdi_mbr_count(m); n++)
		if (hdi_mbr_get(m, n)->status == HDI_MBR_ACTIVE)
			return 1;
	return 0;
}

int fd_free_slot(const struct hdi_mbr *m)
{
	unsigned i;
	for (i = 0; i < HDI_MBR_PRIMARIES; i++)
		if (!hdi_mbr_slot_used(&m->p[i]))
			return (int)i + 1;
	return 0;
}

static int no_primaries(const struct hdi_mbr *m)
{
	unsigned i;
	for (i = 0; i < HDI_MBR_PRIMARIES; i++)
		if (hdi_mbr_slot_used(&m->p[i]))
			return 0;
	return 1;
}

/* fdisk create on a GPT: the first free place for SIZE, on the grain
 * (1 MiB) or --align, or exactly at --start. */
static int gpt_create_edit(struct fd_ctx *c, struct create_args *a, int final)
{
	struct hdi_gpt *g = &c->g;
	uint64_t count = a->bytes / g->sector, start = 0, align;
	struct hdi_guid type;
	char ts[37];
	const char *tn;
	int n;
	if (a->kind != K_PRIMARY)
		return ed_err(c->im.path, "a GPT has no extended or logical "
			      "partitions (use PrimaryPartition)");
	if (a->geometry || (a->has_align && a->align == HDI_MBR_ALIGN_CYLINDER))
		return fd_gpt_refuse(c);
	if (a->bytes % g->sector)
		return ed_err(c->im.path, "bad SIZE '%s': not a multiple of the "
			      "%u-byte sector", a->size_text, (unsigned)g->sector);
	if (fd_gpt_type_arg(c, a->type_text, &type))
		return 1;
	align = a->has_align ? a->align :
		fd_default_grain(g->disk_sectors * g->sector, g->sector);
	if (hdi_gpt_find_space(g, align, a->start64, &count, &start) < 0 && a->start64)
		return ed_err(c->im.path, "refused, nothing written: sector %llu "
			      "is not free, or %s does not fit there",
			      (unsigned long long)a->start64, a->size_text);
	if (!start)
		return ed_err(c->im.path, "refused, nothing written: no free "
			      "space for %s", a->size_text);
	n = hdi_gpt_add(g, 0, start, start + count - 1, &type,
			a->gf.has_uuid ? &a->gf.uuid : NULL);
	if (n == HDI_ENOSPC)
		return ed_err(c->im.path, "refused, nothing written: all %u "
			      "entries of the GPT are in use", (unsigned)g->nentries);
	if (n < 0)
		return ed_err_code(&c->im, "creating the partition", n);
	fd_gpt_fields_apply(hdi_gpt_find(g, (unsigned)n), &a->gf, a->bootable);
	if (final) {
		hdi_guid_to_str(&type, ts);
		tn = fd_gpt_type_name(&type);
		printf("partition %d: start %llu, %llu sectors, type %s\n", n,
		       (unsigned long long)start, (unsigned long long)count,
		       tn ? tn : ts);
	}
	return 0;
}

static int create_edit(struct fd_ctx *c, void *arg, int final)
{
	struct create_args *a = arg;
	struct hdi_mbr *m = &c->m;
	uint32_t count = a->count, ebr = 0, start = 0;
	int n, r, slot = 0, boot;
	if (c->is_gpt)
		return gpt_create_edit(c, a, final);
	if (a->gf.any)
		return ed_err(c->im.path, "--name, --uuid and --attrs are for GPT "
			      "partitions; this disk is MBR");
	if (a->has_type && fd_parse_hex_type(a->type_text, &a->type) < 0)
		return ed_err(c->im.path, "bad --type '%s' (hex, 1-ff)", a->type_text);
	if (a->kind == K_EXTENDED && !hdi_mbr_is_extended(a->type))
		return ed_err(c->im.path, "an extended partition has type 5, f or 85");
	if (a->kind != K_EXTENDED && hdi_mbr_is_extended(a->type))
		return ed_err(c->im.path, "type %x is extended: use ExtendedPartition", a->type);
	if (a->bytes > 0xFFFFFFFFull << 9 || a->start64 > 0xFFFFFFFFu)
		return ed_err(c->im.path, "refused, nothing written: an MBR "
			      "partition ends below 2 TiB");
	if (apply_geometry(c, a->geometry))
		return 1;
	if (a->kind == K_LOGICAL && !m->ext)
		return ed_err(c->im.path, "there is no extended partition to hold "
			      "a logical one (create an ExtendedPartition first)");
	if (a->kind == K_EXTENDED && m->ext)
		return ed_err(c->im.path, "partition %u is already the extended "
			      "partition; there can be only one", m->ext);
	if (a->kind != K_LOGICAL && !(slot = fd_free_slot(m)))
		return ed_err(c->im.path, "all four primary slots are in use");
	r = hdi_mbr_find_space(m, a->kind == K_LOGICAL ? HDI_MBR_LOGICAL :
			       HDI_MBR_PRIMARY, a->align, a->start, &count,
			       &ebr, &start);
	if (r < 0 && a->start)
		return ed_err(c->im.path, "refused, nothing written: sector %lu "
			      "is not free%s", (unsigned long)a->start,
			      a->kind == K_LOGICAL ? " or has no free sector "
			      "before it for the EBR" : "");
	if (r < 0)
		return ed_err(c->im.path, "refused, nothing written: no free "
			      "space for %s (%lu sectors)%s", a->size_text,
			      (unsigned long)a->count, a->kind == K_LOGICAL ?
			      " in the extended partition" : "");
	/* The seed's rule: the first primary partition of a disk with no
	 * active partition boots. */
	boot = a->bootable >= 0 ? a->bootable :
	       a->kind == K_PRIMARY && !any_active(m) && no_primaries(m);
	if (a->kind == K_LOGICAL) {
		n = hdi_mbr_add_logical(m, ebr, start, count, a->type, boot);
	} else {
		n = slot;
		r = hdi_mbr_set_primary(m, (unsigned)slot, start, count, a->type, boot);
		if (r < 0)
			n = r;
	}
	if (n < 0)
		return ed_err_code(&c->im, "creating the partition", n);
	if (final)
		printf("partition %d: start %lu, %lu sectors, type %02x%s\n", n,
		       (unsigned long)start, (unsigned long)count, a->type,
		       boot ? ", bootable" : "");
	return 0;
}

static int parse_kind(const char *s, enum kind *k)
{
	static const struct { const char *name; enum kind k; } t[] = {
		{ "PrimaryPartition", K_PRIMARY }, { "primary", K_PRIMARY },
		{ "ExtendedPartition", K_EXTENDED }, { "extended", K_EXTENDED },
		{ "LogicalPartition", K_LOGICAL }, { "logical", K_LOGICAL },
	};
	size_t i;
	for (i = 0; s && i < sizeof t / sizeof t[0]; i++) {
		if (!strcasecmp(s, t[i].name)) {
			*k = t[i].k;
			return 0;
		}
	}
	return -1;
}

static int cmd_create(const char *image, int argc, char **argv)
{
	struct create_args a;
	struct opts o;
	uint64_t bytes;
	if (parse_opts(image, argc, argv, "type,start,bootable,no-bootable,align,"
		       "geometry,name,uuid,attrs", &o))
		return 1;
	memset(&a, 0, sizeof a);
	if (o.npos != 2 || parse_kind(o.pos[0], &a.kind) < 0)
		return ed_err(image, "usage: fdisk create PrimaryPartition|"
			      "ExtendedPartition|LogicalPartition SIZE [options]");
	if (ed_parse_size(o.pos[1], &bytes) < 0 || !bytes || (bytes & 511))
		return ed_err(image, "bad SIZE '%s': bytes, a non-zero multiple of "
			      "512", o.pos[1]);
	a.bytes = bytes;
	a.count = (uint32_t)(bytes >> 9);
	a.size_text = o.pos[1];
	a.type = a.kind == K_EXTENDED ? HDI_MBR_TYPE_EXT : 0x0E;
	a.type_text = o.type;
	a.has_type = o.type != NULL;
	if (o.start) {
		char *end;
		errno = 0;
		a.start64 = strtoull(o.start, &end, 0);
		if (errno || *end || !a.start64 || *o.start == '-')
			return ed_err(image, "bad --start '%s' (a sector number, not 0)", o.start);
		a.start = (uint32_t)a.start64;
	}
	a.align = HDI_MBR_ALIGN_CYLINDER;
	if (o.align && fd_parse_align(o.align, &a.align) < 0)
		return ed_err(image, "bad --align '%s' (cylinder, 1M or sectors)", o.align);
	a.has_align = o.align != NULL;
	if (fd_gpt_fields_parse(image, o.name, o.uuid, o.attrs, &a.gf))
		return 1;
	if (a.kind != K_PRIMARY && o.bootable < 0)
		o.bootable = 0;
	a.bootable = o.bootable;
	a.geometry = o.geometry;
	return fd_edit(image, create_edit, &a);
}

/* ---- delete, set, signature ----------------------------------------------------- */

struct set_args {
	unsigned n;
	int del, has_type, bootable, has_id;
	uint8_t type;
	uint32_t id;
	const char *geometry, *type_text, *id_text;
	struct fd_gpt_fields gf;
};

static int gpt_set_edit(struct fd_ctx *c, struct set_args *a)
{
	struct hdi_gpt *g = &c->g;
	struct hdi_gpt_part *p;
	struct hdi_guid t;
	if (a->geometry)
		return fd_gpt_refuse(c);
	if (a->has_id) {
		if (hdi_guid_from_str(&g->disk_guid, a->id_text) < 0)
			return ed_err(c->im.path, "bad disk GUID '%s' (8-4-4-4-12 "
				      "hex digits)", a->id_text);
		return 0;
	}
	if (!(p = hdi_gpt_find(g, a->n)))
		return ed_err(c->im.path, "partition %u does not exist", a->n);
	if (a->del)
		return hdi_gpt_delete(g, a->n) < 0;
	if (a->has_type) {
		if (fd_gpt_type_arg(c, a->type_text, &t))
			return 1;
		p->type = t;
	}
	fd_gpt_fields_apply(p, &a->gf, a->bootable);
	return 0;
}

static int set_edit(struct fd_ctx *c, void *arg, int final)
{
	struct set_args *a = arg;
	struct hdi_mbr *m = &c->m;
	int r = 0;
	unsigned n, active = 0;
	if (c->is_gpt)
		return gpt_set_edit(c, a);
	if (a->gf.any)
		return ed_err(c->im.path, "--name, --uuid and --attrs are for GPT "
			      "partitions; this disk is MBR");
	if (apply_geometry(c, a->geometry))
		return 1;
	if (a->has_type && fd_parse_hex_type(a->type_text, &a->type) < 0)
		return ed_err(c->im.path, "bad --type '%s' (hex, 1-ff)", a->type_text);
	if (a->has_id) {
		char *end;
		unsigned long long v;
		errno = 0;
		v = strtoull(a->id_text, &end, 16);
		if (errno || end == a->id_text || *end || v > 0xFFFFFFFFull ||
		    *a->id_text == '-')
			return ed_err(c->im.path, "bad signature '%s' (hex, 32 bits)",
				      a->id_text);
		r = hdi_mbr_set_disk_id(m, (uint32_t)v);
	} else if (a->del) {
		r = hdi_mbr_delete(m, a->n);
	}
	if (!r && a->has_type)
		r = hdi_mbr_set_type(m, a->n, a->type);
	if (!r && a->bootable >= 0)
		r = hdi_mbr_set_active(m, a->n, a->bootable);
	if (r == HDI_ENOENT)
		return ed_err(c->im.path, "partition %u does not exist", a->n);
	if (r == HDI_EINVAL)
		return ed_err(c->im.path, "refused, nothing written: partition %u "
			      "cannot change to or from an extended type", a->n);
	if (r < 0)
		return ed_err_code(&c->im, "changing the table", r);
	for (n = 1; n <= HDI_MBR_PRIMARIES; n++)
		active += m->p[n - 1].status == HDI_MBR_ACTIVE;
	if (final && active > 1)
		fprintf(stderr, "edqcow2: %s: warning: %u primary partitions are "
			"bootable now; BIOS boot code expects one\n", c->im.path, active);
	return 0;
}

static int cmd_delete_set(const char *image, int argc, char **argv, int del)
{
	struct set_args a;
	struct opts o;
	if (parse_opts(image, argc, argv, del ? "" :
		       "type,bootable,no-bootable,name,uuid,attrs", &o))
		return 1;
	memset(&a, 0, sizeof a);
	if (o.npos != 1)
		return ed_err(image, del ? "usage: fdisk delete N" :
			      "usage: fdisk set N [--type TYPE] [--bootable|--no-bootable] "
			      "[--name NAME] [--uuid GUID] [--attrs ATTRS]");
	if (parse_partno(image, o.pos[0], &a.n))
		return 1;
	a.del = del;
	a.bootable = o.bootable;
	a.geometry = o.geometry;
	a.type_text = o.type;
	a.has_type = o.type != NULL;
	if (fd_gpt_fields_parse(image, o.name, o.uuid, o.attrs, &a.gf))
		return 1;
	if (!del && !a.has_type && a.bootable < 0 && !a.gf.any)
		return ed_err(image, "fdisk set: nothing to change (--type, --bootable, "
			      "--no-bootable, --name, --uuid, --attrs)");
	return fd_edit(image, set_edit, &a);
}

static int cmd_signature(const char *image, int argc, char **argv)
{
	struct set_args a;
	struct opts o;
	if (parse_opts(image, argc, argv, "", &o))
		return 1;
	if (o.npos > 1)
		return ed_err(image, "usage: fdisk signature [HEX|GUID]");
	if (!o.npos) {
		struct fd_ctx *c = malloc(sizeof(*c));
		char id[37];
		int rc;
		if (!c)
			return ed_err(image, "out of memory");
		rc = fd_open(c, image, 0);
		if (!rc && c->m.kind == HDI_MBR_NONE)
			rc = ed_err(image, "does not contain a recognized partition table");
		if (!rc && c->is_gpt) {
			hdi_guid_to_str(&c->g.disk_guid, id);
			printf("%s\n", id);
		} else if (!rc) {
			printf("0x%08x\n", (unsigned)c->m.disk_id);
		}
		rc = c->open ? fd_close(c, rc) : rc;
		free(c);
		return rc;
	}
	memset(&a, 0, sizeof a);
	a.has_id = 1;
	a.id_text = o.pos[0];
	a.bootable = -1;
	return fd_edit(image, set_edit, &a);
}

/* ---- create-label ---------------------------------------------------------------- */

struct label_args {
	int gpt, force;
	uint32_t nentries;
	const char *id;
};

static const char *label_name(const struct fd_ctx *c)
{
	return c->is_gpt ? "gpt" : c->m.kind == HDI_MBR_DOS ? "dos" : NULL;
}

static int label_edit(struct fd_ctx *c, void *arg, int final)
{
	struct label_args *a = arg;
	struct hdi_guid gid;
	if (label_name(c) && !a->force)
		return ed_err(c->im.path, "refused, nothing written: the disk has a "
			      "%s partition table; create-label replaces it only "
			      "with --force", label_name(c));
	if (a->gpt) {
		if (a->id && hdi_guid_from_str(&gid, a->id) < 0)
			return ed_err(c->im.path, "bad --label-id '%s' (a GUID)", a->id);
		return fd_gpt_new(c, a->nentries, 0, a->id ? &gid : NULL);
	}
	return fd_dos_new(c, a->id);
}

static int cmd_create_label(const char *image, int argc, char **argv)
{
	struct label_args a;
	struct opts o;
	uint32_t n = 0;
	int rc;
	if (parse_opts(image, argc, argv, "force,label-id,table-length", &o))
		return 1;
	memset(&a, 0, sizeof a);
	if (o.npos != 1 || (strcasecmp(o.pos[0], "gpt") && strcasecmp(o.pos[0], "dos") &&
			    strcasecmp(o.pos[0], "mbr")))
		return ed_err(image, "usage: fdisk create-label gpt|dos [--force] "
			      "[--label-id ID] [--table-length N]");
	a.gpt = !strcasecmp(o.pos[0], "gpt");
	if (o.table_length && (!a.gpt || fd_parse_u32(o.table_length, &n) < 0 || !n ||
			       n > HDI_GPT_MAX_ENTRIES))
		return ed_err(image, "bad --table-length '%s' (GPT entries, 1-%u)",
			      o.table_length, HDI_GPT_MAX_ENTRIES);
	a.nentries = n;
	a.force = o.force;
	a.id = o.label_id;
	allow_bad_gpt = o.force;
	rc = fd_edit(image, label_edit, &a);
	allow_bad_gpt = 0;
	return rc;
}

/* ---- list, dump, apply ------------------------------------------------------------ */

static int cmd_show(const char *image, int argc, char **argv, int dump)
{
	struct fd_ctx *c;
	struct opts o;
	int rc;
	if (parse_opts(image, argc, argv, "", &o))
		return 1;
	if (o.npos)
		return ed_err(image, "usage: fdisk %s", dump ? "dump" : "list");
	if (!(c = malloc(sizeof(*c))))
		return ed_err(image, "out of memory");
	rc = fd_open(c, image, 0);
	if (rc) {
		free(c);
		return rc;
	}
	if (!dump && c->is_gpt)
		fd_gpt_print_list(stdout, image, &c->g);
	else if (!dump)
		fd_print_list(stdout, image, &c->m);
	else if (c->m.kind == HDI_MBR_NONE)
		rc = ed_err(image, "does not contain a recognized partition table");
	else if (c->is_gpt)
		fd_gpt_print_dump(stdout, image, &c->g);
	else
		fd_print_dump(stdout, image, &c->m);
	if (fflush(stdout) != 0 && !rc)
		rc = ed_err(image, "writing the output failed");
	rc = fd_close(c, rc);
	free(c);
	return rc;
}

struct apply_args {
	struct fd_script *s;
	uint32_t align;
	const char *geometry;
	int verbose;
};

/* The script's label: header chooses the table; without one the disk's
 * own label stays (dos on a blank disk), as sfdisk does. */
static int apply_edit(struct fd_ctx *c, void *arg, int final)
{
	struct apply_args *a = arg;
	int gpt = a->s->label == FD_LABEL_GPT ||
		  (a->s->label == FD_LABEL_KEEP && c->is_gpt);
	if (gpt) {
		if (a->geometry || a->align == FD_ALIGN_CYL)
			return ed_err(c->im.path, "--geometry and --align cylinder "
				      "are for MBR tables; the script makes a GPT");
		return fd_gpt_script_build(c, a->s, a->align, final && a->verbose);
	}
	if (c->is_gpt && fd_dos_new(c, NULL))
		return 1;
	if (apply_geometry(c, a->geometry))
		return 1;
	return fd_script_build(c, a->s, a->align, final && a->verbose);
}

int fd_apply(const char *image, struct fd_script *s, uint32_t align,
	     int verbose)
{
	struct apply_args a;
	memset(&a, 0, sizeof a);
	a.s = s;
	a.align = align;
	a.verbose = verbose;
	return fd_edit(image, apply_edit, &a);
}

static int cmd_apply(const char *image, int argc, char **argv)
{
	struct apply_args a;
	struct fd_script *s;
	struct opts o;
	FILE *in;
	int rc;
	if (parse_opts(image, argc, argv, "align,geometry", &o))
		return 1;
	if (o.npos != 1)
		return ed_err(image, "usage: fdisk apply SCRIPT|- [--align ...] [--geometry H/S]");
	memset(&a, 0, sizeof a);
	a.align = FD_ALIGN_DEFAULT;
	if (o.align && fd_parse_align(o.align, &a.align) < 0)
		return ed_err(image, "bad --align '%s' (cylinder, 1M or sectors)", o.align);
	a.geometry = o.geometry;
	in = strcmp(o.pos[0], "-") ? fopen(o.pos[0], "r") : stdin;
	if (!in)
		return ed_err(image, "cannot open script '%s': %s", o.pos[0], strerror(errno));
	s = calloc(1, sizeof(*s));
	rc = s ? fd_script_read(s, in, o.pos[0]) : ed_err(image, "out of memory");
	if (in != stdin)
		fclose(in);
	if (!rc) {
		a.s = s;
		a.verbose = 1;
		rc = fd_edit(image, apply_edit, &a);
	}
	free(s);
	return rc;
}

int ed_cmd_fdisk(const char *image, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	if (!image || ed_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!sub)
		return ed_err(image, "fdisk: missing command (try fdisk --help)");
	argc -= 2;
	argv += 2;
	if (fd_global_opts(image, &argc, argv))
		return 1;
	if (!strcmp(sub, "create"))
		return cmd_create(image, argc, argv);
	if (!strcmp(sub, "list"))
		return cmd_show(image, argc, argv, 0);
	if (!strcmp(sub, "dump"))
		return cmd_show(image, argc, argv, 1);
	if (!strcmp(sub, "apply"))
		return cmd_apply(image, argc, argv);
	if (!strcmp(sub, "delete"))
		return cmd_delete_set(image, argc, argv, 1);
	if (!strcmp(sub, "set"))
		return cmd_delete_set(image, argc, argv, 0);
	if (!strcmp(sub, "signature"))
		return cmd_signature(image, argc, argv);
	if (!strcmp(sub, "create-label"))
		return cmd_create_label(image, argc, argv);
	return ed_err(image, "fdisk: unknown command '%s' (try fdisk --help)", sub);
}

/* ---- bootcode ------------------------------------------------------------------------ */

/* Reads all of path ("-": stdin) into a malloc'd buffer. */
static uint8_t *slurp(const char *image, const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	uint8_t *p = NULL, *q;
	size_t cap = 0, n;
	*len = 0;
	if (!f) {
		ed_err(image, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (!(q = realloc(p, cap))) {
				ed_err(image, "out of memory reading '%s'", path);
				break;
			}
			p = q;
		}
		n = fread(p + *len, 1, cap - *len, f);
		*len += n;
		if (n == 0) {
			if (ferror(f)) {
				ed_err(image, "cannot read '%s': %s", path, strerror(errno));
				break;
			}
			if (f != stdin)
				fclose(f);
			return p ? p : malloc(1);
		}
	}
	if (f != stdin)
		fclose(f);
	free(p);
	return NULL;
}

int ed_cmd_bootcode(const char *image, int argc, char **argv)
{
	struct ed_image im;
	static uint8_t buf[HDI_MBR_BUF_MAX];
	uint8_t *code;
	size_t len;
	int r, rc;
	if (!image || ed_wants_help(argc, argv)) {
		fputs("usage: edqcow2 IMAGE bootcode FILE\n"
		      "Installs the first 440 bytes of FILE (440, 446 or 512 bytes)\n"
		      "as the MBR boot code; the signature and the table stay.\n", stdout);
		return 0;
	}
	if (argc != 2)
		return ed_err(image, "usage: bootcode FILE");
	if (!(code = slurp(image, argv[1], &len)))
		return 1;
	if (len != 440 && len != 446 && len != 512) {
		free(code);
		return ed_err(image, "boot code file '%s' has %zu bytes; it must "
			      "have 440, 446 or 512", argv[1], len);
	}
	if (ed_open(&im, image, ED_OPEN_RDWR) < 0) {
		free(code);
		return 1;
	}
	r = hdi_mbr_write_bootcode(im.disk, buf, sizeof buf, code);
	free(code);
	rc = r < 0 ? ed_err_code(&im, "writing the boot code", r) : 0;
	return ed_close(&im) && !rc ? 1 : rc;
}

/* ---- partition N write|read ------------------------------------------------------------ */

static int part_io(struct fd_ctx *c, unsigned n, int wr, uint64_t off,
		   uint64_t len, const uint8_t *data)
{
	struct hdi_bdev_view pd;
	static uint8_t bounce[HDI_GRANULE_MAX];
	uint8_t *chunk = wr ? NULL : malloc(1u << 20);
	int r = c->is_gpt ? hdi_gpt_partdev_init(&pd, &c->g, n) :
			    hdi_mbr_partdev_init(&pd, &c->m, n);
	if (r == HDI_EINVAL)
		return ed_err(c->im.path, "partition %u is not aligned to the "
			      "device's %u-byte granule", n, (unsigned)c->m.dev->granule);
	if (r < 0 || (!wr && !chunk)) {
		free(chunk);
		return ed_err_code(&c->im, "opening the partition", r < 0 ? r : HDI_ENOMEM);
	}
	while (len && r == 0) {
		size_t k = (size_t)(len < (1u << 20) ? len : (1u << 20));
		if (wr) {
			r = hdi_bdev_pwrite(&pd.bdev, off, data, k, bounce);
			data += k;
		} else {
			r = hdi_bdev_pread(&pd.bdev, off, chunk, k, bounce);
			if (!r && fwrite(chunk, 1, k, stdout) != k) {
				free(chunk);
				return ed_err(c->im.path, "writing the output failed");
			}
		}
		off += k;
		len -= k;
	}
	free(chunk);
	if (r < 0)
		return ed_err_code(&c->im, wr ? "writing the partition" :
				   "reading the partition", r);
	if (!wr && fflush(stdout))
		return ed_err(c->im.path, "writing the output failed");
	return 0;
}

/* Partition n exists, holds a payload, and [off, off+len) fits in it. */
static int part_check(struct fd_ctx *c, unsigned n, int wr, uint64_t off,
		      uint64_t len)
{
	const struct hdi_mbr_part *p = hdi_mbr_get(&c->m, n);
	uint64_t poff, plen;
	if (c->is_gpt) {
		int r = hdi_gpt_range(&c->g, n, &poff, &plen);
		if (r == HDI_ECORRUPT)
			return ed_err(c->im.path, "partition %u lies outside the disk", n);
		if (r < 0)
			return ed_err(c->im.path, "partition %u does not exist", n);
	} else if (hdi_mbr_range(&c->m, n, &poff, &plen) < 0) {
		return ed_err(c->im.path, "partition %u does not exist", n);
	}
	if (!c->is_gpt && n <= HDI_MBR_PRIMARIES && hdi_mbr_is_extended(p->type))
		return ed_err(c->im.path, "partition %u is the extended partition; "
			      "it holds the EBR chain, not a payload", n);
	if (off > plen || len > plen - off)
		return ed_err(c->im.path, "%s%llu bytes at offset %llu do not fit "
			      "in partition %u (%llu bytes)",
			      wr ? "refused, nothing written: " : "",
			      (unsigned long long)len, (unsigned long long)off, n,
			      (unsigned long long)plen);
	return 0;
}

int ed_cmd_partition(const char *image, int argc, char **argv)
{
	struct fd_ctx *c;
	struct opts o;
	unsigned n = 0;
	uint64_t off = 0, len = 0, poff, plen;
	uint8_t *data = NULL;
	size_t dlen = 0;
	int wr, rc;
	if (!image || ed_wants_help(argc, argv)) {
		fputs("usage: edqcow2 IMAGE partition N write FILE|- [--offset BYTES]\n"
		      "       edqcow2 IMAGE partition N read [OFFSET LENGTH]\n"
		      "Copies a payload into or out of partition N, within its bounds.\n",
		      stdout);
		return 0;
	}
	argc--;
	argv++;
	if (fd_global_opts(image, &argc, argv) ||
	    parse_opts(image, argc, argv, "offset", &o))
		return 1;
	if (o.npos < 2)
		return ed_err(image, "usage: partition N write FILE | read [OFFSET LENGTH]");
	if (parse_partno(image, o.pos[0], &n))
		return 1;
	wr = !strcmp(o.pos[1], "write");
	if (!wr && strcmp(o.pos[1], "read"))
		return ed_err(image, "partition: unknown action '%s' (write or read)", o.pos[1]);
	if (wr ? o.npos != 3 : (o.npos != 2 && o.npos != 4) || o.offset)
		return ed_err(image, "usage: partition N write FILE [--offset BYTES] | read [OFFSET LENGTH]");
	if (wr && o.offset && ed_parse_size(o.offset, &off) < 0)
		return ed_err(image, "bad --offset '%s'", o.offset);
	if (!wr && o.npos == 4 && (ed_parse_size(o.pos[2], &off) < 0 ||
				   ed_parse_size(o.pos[3], &len) < 0))
		return ed_err(image, "bad OFFSET or LENGTH");
	if (wr && !(data = slurp(image, o.pos[2], &dlen)))
		return 1;
	if (!(c = malloc(sizeof(*c)))) {
		free(data);
		return ed_err(image, "out of memory");
	}
	/* Checked on a read-only open: a refusal never opens for writing. */
	rc = fd_open(c, image, 0);
	if (!rc && !wr && o.npos == 2 &&
	    (c->is_gpt ? hdi_gpt_range(&c->g, n, &poff, &plen) :
			 hdi_mbr_range(&c->m, n, &poff, &plen)) == 0)
		len = plen;
	if (wr)
		len = dlen;
	if (!rc)
		rc = part_check(c, n, wr, off, len);
	if (!rc && wr) {
		fd_close(c, 0);
		rc = fd_open(c, image, 1);
		if (!rc)
			rc = part_check(c, n, wr, off, len);
	}
	if (!rc)
		rc = part_io(c, n, wr, off, len, data);
	if (c->open)
		rc = fd_close(c, rc);
	free(c);
	free(data);
	return rc;
}
