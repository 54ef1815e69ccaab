/* tools/fdisk_gpt.c: edqcow2's GPT side of fdisk: a new table laid out as
 * libfdisk lays it out, an sfdisk script built into it with libfdisk's
 * placement (largest free area, 1 MiB grain, aligned ends), the GUID
 * source (OS random or --seed), and the backup's move on resize. */
#ifdef _WIN32
#define _CRT_RAND_S            /* rand_s: the CRT's OS random source */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "fdisk_ed.h"

uint32_t fd_sector = 512;
int fd_sector_given;
static int seeded;
static uint64_t seed, seed_state;

void fd_guid_restart(void)
{
	seed_state = seed;
}

/* splitmix64: a fixed, well-mixed sequence per seed. */
static uint64_t next_seeded(void)
{
	uint64_t z = (seed_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int os_random(uint8_t *b, size_t n)
{
#ifdef _WIN32
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned v;
		if (rand_s(&v))
			return -1;
		b[i] = (uint8_t)v;
	}
	return 0;
#else
	FILE *f = fopen("/dev/urandom", "rb");
	size_t got = f ? fread(b, 1, n, f) : 0;
	if (f)
		fclose(f);
	return got == n ? 0 : -1;
#endif
}

static int one_guid(struct hdi_guid *g);

/* A GUID the table (ctx, when given) does not hold yet: each run of a
 * seeded command starts the same sequence, so later ones skip what the
 * earlier ones took. */
static bool taken(const struct hdi_gpt *t, const struct hdi_guid *g)
{
	uint32_t i;
	if (!t)
		return false;
	if (hdi_guid_eq(&t->disk_guid, g))
		return true;
	for (i = 0; i < t->nparts; i++)
		if (hdi_guid_eq(&t->parts[i].uuid, g))
			return true;
	return false;
}

int fd_guid(void *ctx, struct hdi_guid *g)
{
	struct hdi_guid t;
	unsigned tries;
	int r;
	/* g may be the table's own disk GUID: compare a copy. */
	for (tries = 0; tries < 100000; tries++) {
		if ((r = one_guid(&t)) < 0)
			return r;
		if (!taken(ctx, &t)) {
			*g = t;
			return HDI_OK;
		}
	}
	return HDI_EIO;
}

static int one_guid(struct hdi_guid *g)
{
	if (seeded) {
		uint64_t a = next_seeded(), b = next_seeded();
		unsigned i;
		for (i = 0; i < 8; i++) {
			g->b[i] = (uint8_t)(a >> (8 * i));
			g->b[8 + i] = (uint8_t)(b >> (8 * i));
		}
	} else if (os_random(g->b, sizeof g->b) < 0) {
		return HDI_EIO;
	}
	hdi_guid_make_v4(g);
	return HDI_OK;
}

int fd_global_opts(const char *image, int *argc, char **argv)
{
	int i, o = 0;
	for (i = 0; i < *argc; i++) {
		const char *a = argv[i], *v = NULL;
		int which = !strncmp(a, "--sector-size", 13) ? 1 :
			    !strncmp(a, "--seed", 6) ? 2 : 0;
		size_t nl = which == 1 ? 13 : 6;
		char *end;
		unsigned long long x;
		if (!which || (a[nl] && a[nl] != '=')) {
			argv[o++] = argv[i];
			continue;
		}
		v = a[nl] == '=' ? a + nl + 1 : i + 1 < *argc ? argv[++i] : NULL;
		if (!v || !*v)
			return ed_err(image, "option '%.*s' needs a value", (int)nl, a);
		errno = 0;
		x = strtoull(v, &end, 0);
		if (errno || *end || *v == '-')
			return ed_err(image, "bad %.*s '%s'", (int)nl, a, v);
		if (which == 1) {
			if (x != 512 && x != 4096)
				return ed_err(image, "bad --sector-size '%s' (512 or 4096)", v);
			fd_sector = (uint32_t)x;
			fd_sector_given = 1;
		} else {
			seeded = 1;
			seed = seed_state = x;
		}
	}
	*argc = o;
	argv[o] = NULL;
	return 0;
}

/* ---- fields of create and set -------------------------------------------------- */

int fd_gpt_fields_parse(const char *image, const char *name, const char *uuid,
			const char *attrs, struct fd_gpt_fields *f)
{
	memset(f, 0, sizeof(*f));
	if (name && hdi_gpt_name_from_utf8(f->name, name) < 0)
		return ed_err(image, "bad --name '%s': at most 36 UTF-16 code "
			      "units of UTF-8 text", name);
	if (uuid && hdi_guid_from_str(&f->uuid, uuid) < 0)
		return ed_err(image, "bad --uuid '%s' (8-4-4-4-12 hex digits)", uuid);
	if (attrs && fd_gpt_parse_attrs(attrs, &f->attrs) < 0)
		return ed_err(image, "bad --attrs '%s' (RequiredPartition "
			      "NoBlockIOProtocol LegacyBIOSBootable GUID:48..63)", attrs);
	f->has_name = name != NULL;
	f->has_uuid = uuid != NULL;
	f->has_attrs = attrs != NULL;
	f->any = f->has_name || f->has_uuid || f->has_attrs;
	return 0;
}

void fd_gpt_fields_apply(struct hdi_gpt_part *p, const struct fd_gpt_fields *f,
			 int bootable)
{
	if (f->has_name)
		memcpy(p->name, f->name, sizeof p->name);
	if (f->has_uuid)
		p->uuid = f->uuid;
	if (f->has_attrs)
		p->attrs = f->attrs;
	if (bootable > 0)
		p->attrs |= HDI_GPT_ATTR_LEGACY_BOOT;
	else if (bootable == 0)
		p->attrs &= ~HDI_GPT_ATTR_LEGACY_BOOT;
}

int fd_gpt_type_arg(struct fd_ctx *c, const char *s, struct hdi_guid *t)
{
	if (!s)
		s = "L";
	if (fd_gpt_parse_type(s, t) < 0)
		return ed_err(c->im.path, "bad --type '%s' for a GPT partition (a "
			      "GUID, L S H U R V, an alias or an fdisk -l name)", s);
	return 0;
}

/* ---- a new table ----------------------------------------------------------------- */

static uint64_t disk_bytes(const struct fd_ctx *c)
{
	return c->g.disk_sectors * c->g.sector;
}

int fd_gpt_new(struct fd_ctx *c, uint32_t nentries, uint64_t first_lba,
	       const struct hdi_guid *id)
{
	uint64_t bytes, grain, asec, first;
	uint32_t n = nentries ? nentries : HDI_GPT_DEFAULT_ENTRIES;
	int r = hdi_bdev_size(c->im.disk, &bytes);
	if (r < 0)
		return ed_err_code(&c->im, "sizing the disk", r);
	/* libfdisk starts the usable area at the first grain past the array
	 * (LBA 34 on a disk too small for a 1 MiB grain). */
	grain = fd_default_grain(bytes, fd_sector);
	asec = ((uint64_t)n * HDI_GPT_ENTRY_SIZE + fd_sector - 1) / fd_sector;
	first = first_lba ? first_lba : grain > 2 + asec ? grain : 2 + asec;
	r = hdi_gpt_new(&c->g, c->im.disk, fd_sector, c->gbuf, sizeof c->gbuf,
			c->gparts, FD_GPT_MAXP, n, first, id, fd_guid, &c->g);
	if (r == HDI_EINVAL)
		return ed_err(c->im.path, "refused, nothing written: a GPT with "
			      "%u entries and first-lba %llu does not fit this "
			      "disk (%llu bytes)", (unsigned)n,
			      (unsigned long long)first, (unsigned long long)bytes);
	if (r < 0)
		return ed_err_code(&c->im, "starting a GPT", r);
	c->is_gpt = 1;
	return 0;
}

int fd_dos_new(struct fd_ctx *c, const char *id)
{
	uint32_t v = 0;
	struct hdi_guid g;
	char *end;
	if (id) {
		unsigned long long x;
		errno = 0;
		x = strtoull(id, &end, 16);
		if (errno || end == id || *end || x > 0xFFFFFFFFull || *id == '-')
			return ed_err(c->im.path, "bad --label-id '%s' (hex, 32 bits)", id);
		v = (uint32_t)x;
	} else if (one_guid(&g) == HDI_OK) {
		v = (uint32_t)g.b[0] | (uint32_t)g.b[1] << 8 |
		    (uint32_t)g.b[2] << 16 | (uint32_t)g.b[3] << 24;
	}
	if (c->is_gpt)
		c->wipe_gpt = 1;
	c->is_gpt = 0;
	hdi_mbr_reset(&c->m, v);
	return 0;
}

/* ---- building an sfdisk script ----------------------------------------------------- */

static int line_err(const struct fd_script *s, const struct fd_line *l,
		    const char *fmt, ...) ED_PRINTF(3, 4);
static int line_err(const struct fd_script *s, const struct fd_line *l,
		    const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "edqcow2: %s:%u: ", s->name, l->lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* libfdisk's fdisk_align_lba: dir > 0 up, < 0 down, 0 nearest; never
 * below the first usable sector. */
static uint64_t align_lba(uint64_t lba, int dir, uint64_t g, uint64_t first_lba)
{
	if (lba % g == 0)
		return lba;
	if (lba < first_lba)
		return first_lba;
	if (dir > 0)
		return (lba + g) / g * g;
	if (dir < 0)
		return lba / g * g;
	return (lba + g / 2) / g * g;
}

/* libfdisk's fdisk_align_lba_in_range: lba aligned, kept inside [start,
 * stop] aligned inwards; less than a grain past start is left alone. */
static uint64_t align_in_range(uint64_t lba, uint64_t start, uint64_t stop,
			       uint64_t g, uint64_t first_lba)
{
	start = align_lba(start, 1, g, first_lba);
	stop = align_lba(stop, -1, g, first_lba);
	if (lba > start && lba < stop && lba - start < g)
		return lba;
	lba = align_lba(lba, 0, g, first_lba);
	return lba < start ? start : lba > stop ? stop : lba;
}

/* Free sector ranges of the table: the largest one's first sector, and
 * the last free sector of the range that holds pos. */
static bool is_free(const struct hdi_gpt *g, uint64_t pos)
{
	uint32_t i;
	if (pos < g->first_usable || pos > g->last_usable)
		return false;
	for (i = 0; i < g->nparts; i++)
		if (g->parts[i].first <= pos && pos <= g->parts[i].last)
			return false;
	return true;
}

static uint64_t last_free(const struct hdi_gpt *g, uint64_t pos)
{
	uint64_t end = g->last_usable;
	uint32_t i;
	for (i = 0; i < g->nparts; i++)
		if (g->parts[i].first > pos && g->parts[i].first - 1 < end)
			end = g->parts[i].first - 1;
	return end;
}

static uint64_t next_free(const struct hdi_gpt *g, uint64_t pos)
{
	uint32_t i;
	bool moved = true;
	while (moved && pos <= g->last_usable) {
		moved = false;
		for (i = 0; i < g->nparts; i++)
			if (g->parts[i].first <= pos && pos <= g->parts[i].last) {
				pos = g->parts[i].last + 1;
				moved = true;
			}
	}
	return pos;
}

static int largest_free(const struct hdi_gpt *g, uint64_t *f, uint64_t *l)
{
	uint64_t pos, best = 0, bf = 0, bl = 0, e;
	for (pos = next_free(g, g->first_usable); pos <= g->last_usable;
	     pos = next_free(g, e + 1)) {
		e = last_free(g, pos);
		if (e - pos + 1 > best) {
			best = e - pos + 1;
			bf = pos;
			bl = e;
		}
	}
	*f = bf;
	*l = bl;
	return best ? 0 : -1;
}

static unsigned next_number(const struct hdi_gpt *g)
{
	unsigned n;
	for (n = 1; n <= g->nentries && hdi_gpt_find(g, n); n++)
		;
	return n;
}

/* Where the line's partition goes, as libfdisk's gpt_add_partition
 * decides it for sfdisk. */
static int place(const struct fd_script *s, const struct fd_line *l,
		 const struct hdi_gpt *g, uint64_t grain, uint64_t *first,
		 uint64_t *last)
{
	uint64_t f, dflt_f, dflt_l, max_l, ul, size = 0;
	uint64_t first_lba = g->first_usable;
	if (l->has_start) {
		f = l->start_bytes ? l->start / g->sector : l->start;
		if (l->start_bytes && l->start % g->sector)
			return line_err(s, l, "start is not a multiple of the %u-byte sector",
					(unsigned)g->sector);
		if (!is_free(g, f))
			return line_err(s, l, "sector %llu is not free (in use, or "
					"outside first-lba..last-lba %llu..%llu)",
					(unsigned long long)f,
					(unsigned long long)g->first_usable,
					(unsigned long long)g->last_usable);
	} else {
		if (largest_free(g, &dflt_f, &dflt_l) < 0 ||
		    dflt_l - dflt_f + 1 < grain)
			return line_err(s, l, "no free space left for this partition");
		f = align_in_range(dflt_f, dflt_f, dflt_l, grain, first_lba);
	}
	max_l = dflt_l = last_free(g, f);
	if (max_l == g->last_usable) {
		dflt_l = align_in_range(max_l, f, max_l, grain, first_lba);
		dflt_l = dflt_l > f ? dflt_l - 1 : max_l;
	}
	if (l->size_kind == FD_SIZE_DEFAULT) {
		*first = f;
		*last = dflt_l;
		return 0;
	}
	size = l->size_kind == FD_SIZE_BYTES ? l->size / g->sector : l->size;
	if (!size)
		return line_err(s, l, "size is below one %u-byte sector", (unsigned)g->sector);
	ul = f + size - 1;
	if (ul != dflt_l && l->size_kind == FD_SIZE_BYTES && grain > 1 &&
	    ul - f > grain) {
		ul = align_in_range(ul, f, dflt_l, grain, first_lba);
		if (ul > f)
			ul--;
	}
	if (ul > max_l)
		return line_err(s, l, "%llu sectors at %llu do not fit: the free "
				"space there ends at %llu", (unsigned long long)size,
				(unsigned long long)f, (unsigned long long)max_l);
	*first = f;
	*last = ul;
	return 0;
}

static int build_line(struct fd_ctx *c, const struct fd_script *s,
		      struct fd_line *l, uint64_t grain, int verbose)
{
	struct hdi_gpt *g = &c->g;
	struct hdi_guid type;
	struct hdi_gpt_part *p;
	uint64_t first = 0, last = 0;
	unsigned n = l->partno ? l->partno : next_number(g);
	char ts[37];
	int r;
	if (n > g->nentries)
		return line_err(s, l, "partition %u: the table holds %u entries "
				"(table-length)", n, (unsigned)g->nentries);
	if (hdi_gpt_find(g, n))
		return line_err(s, l, "partition %u is defined twice", n);
	if (!l->type_text[0])
		hdi_guid_from_str(&type, "0FC63DAF-8483-4772-8E79-3D69D8477DE4");
	else if (fd_gpt_parse_type(l->type_text, &type) < 0)
		return line_err(s, l, "unknown GPT partition type '%s' (a GUID, "
				"L S H U R V, an alias or an fdisk -l name)",
				l->type_text);
	if (place(s, l, g, grain, &first, &last))
		return 1;
	r = hdi_gpt_add(g, n, first, last, &type, l->has_uuid ? &l->uuid : NULL);
	if (r < 0)
		return line_err(s, l, "cannot add partition %u: %s", n, hdi_strerror(r));
	p = hdi_gpt_find(g, n);
	l->result = n;
	if (l->has_name)
		memcpy(p->name, l->name, sizeof p->name);
	if (l->has_attrs)
		p->attrs = l->attrs;
	if (verbose) {
		const char *tn = fd_gpt_type_name(&type);
		hdi_guid_to_str(&type, ts);
		printf("partition %u: start %llu, %llu sectors, type %s\n", n,
		       (unsigned long long)first,
		       (unsigned long long)(last - first + 1), tn ? tn : ts);
	}
	return 0;
}

int fd_gpt_script_build(struct fd_ctx *c, struct fd_script *s,
			uint32_t align, int verbose)
{
	uint64_t grain;
	unsigned i;
	int r;
	if (fd_gpt_new(c, s->table_length, s->first_lba, s->has_gid ? &s->gid : NULL))
		return 1;
	if (s->last_lba && (r = hdi_gpt_set_usable(&c->g, 0, s->last_lba)) < 0)
		return ed_err(c->im.path, "refused, nothing written: last-lba %llu "
			      "is past the room the backup array leaves (at most %llu)",
			      (unsigned long long)s->last_lba,
			      (unsigned long long)(c->g.alt_array_lba - 1));
	if (s->grain)
		grain = (uint64_t)s->grain * 512u / c->g.sector;
	else if (align != FD_ALIGN_DEFAULT && align != FD_ALIGN_CYL)
		grain = align;
	else
		grain = fd_default_grain(disk_bytes(c), c->g.sector);
	if (!grain)
		grain = 1;
	for (i = 0; i < s->n; i++)
		if (build_line(c, s, &s->line[i], grain, verbose))
			return 1;
	return 0;
}

/* ---- resize ---------------------------------------------------------------------------- */

int fd_gpt_follow_resize(struct ed_image *im, uint64_t new_bytes)
{
	struct fd_ctx *c = calloc(1, sizeof(*c));
	struct hdi_gpt_problem why;
	uint32_t sector = fd_sector;
	uint64_t n;
	int r, rc = 0;
	if (!c)
		return ed_err(im->path, "out of memory");
	c->im = *im;
	/* The sector size is the one the GPT was written with. */
	r = hdi_gpt_read(&c->g, im->disk, sector, c->gbuf, sizeof c->gbuf,
			 c->gparts, FD_GPT_MAXP);
	if (r == HDI_ECORRUPT || (r == HDI_OK && c->g.kind == HDI_GPT_NONE)) {
		int r2 = hdi_gpt_read(&c->g, im->disk, sector ^ (512u ^ 4096u),
				      c->gbuf, sizeof c->gbuf, c->gparts, FD_GPT_MAXP);
		if (r2 == HDI_OK && c->g.kind == HDI_GPT_VALID) {
			r = r2;
			sector ^= 512u ^ 4096u;
		} else {
			r = hdi_gpt_read(&c->g, im->disk, sector, c->gbuf,
					 sizeof c->gbuf, c->gparts, FD_GPT_MAXP);
		}
	}
	n = new_bytes / sector;
	if (r == HDI_OK && c->g.kind == HDI_GPT_NONE) {
		free(c);
		return 0;
	}
	if (r < 0)
		rc = ed_err(im->path, "refused: the GPT cannot be read (%s), so its "
			    "backup cannot follow the new size", hdi_strerror(r));
	else if (n == c->g.disk_sectors && c->g.alt_lba == n - 1)
		rc = 0;
	else if ((r = hdi_gpt_set_disk_sectors(&c->g, n)) < 0)
		rc = ed_err(im->path, "refused, nothing changed: at %llu bytes a "
			    "partition of the GPT would end past the last usable "
			    "sector", (unsigned long long)new_bytes);
	else if ((r = hdi_gpt_write(&c->g, &why)) == HDI_EINVAL)
		rc = fd_gpt_refuse_why(im->path, &why);
	else if (r < 0)
		rc = ed_err_code(im, "moving the GPT backup", r);
	free(c);
	return rc;
}
