/* tools/fdisk_script.c: `fdisk apply`: sfdisk's script input (headers,
 * named and unnamed fields, types, bootable, logical lines 5 and up) read
 * into a plan, and the plan built into an MBR table with sfdisk's default
 * placement and alignment. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fdisk_ed.h"

static int line_err(const struct fd_script *s, unsigned lineno,
		    const char *fmt, ...) ED_PRINTF(3, 4);
static int line_err(const struct fd_script *s, unsigned lineno,
		    const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "edqcow2: %s:%u: ", s->name, lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

char *fd_trim(char *p)
{
	char *e;
	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = 0;
	return p;
}

/* libfdisk's rule: a header has a ':' after something, something after
 * it, and no '='. */
static int is_header(const char *s)
{
	const char *p = strchr(s, ':');
	return p && p != s && p[1] && !strchr(s, '=');
}

/* A number as sfdisk's strtosize reads it: decimal, 0x hex or 0 octal,
 * optionally K, M, G, T, P, E (KiB = 1024; KB = 1000). *bytes tells
 * whether a suffix made it a byte count. */
static int parse_num(const char *t, uint64_t *v, int *bytes)
{
	static const char letters[] = "KMGTPE";
	const char *l;
	char *end;
	unsigned long long x;
	uint64_t mul = 1, base = 1024;
	int i, pw;
	*bytes = 0;
	if (!isdigit((unsigned char)*t))
		return -1;
	errno = 0;
	x = strtoull(t, &end, 0);
	if (errno)
		return -1;
	if (*end) {
		l = strchr(letters, toupper((unsigned char)*end));
		if (!l)
			return -1;
		pw = (int)(l - letters) + 1;
		end++;
		if (!strcasecmp(end, "iB"))
			end += 2;
		else if (!strcasecmp(end, "B"))
			end++, base = 1000;
		if (*end)
			return -1;
		for (i = 0; i < pw; i++)
			mul *= base;
		if (x > UINT64_MAX / mul)
			return -1;
		*bytes = 1;
	}
	*v = x * mul;
	return 0;
}

/* sfdisk tries its shortcuts first in scripts, then aliases, hex, names. */
static int parse_type(const char *t)
{
	static const struct { const char *s; int code; } sc[] = {
		{ "L", 0x83 }, { "S", 0x82 }, { "E", 0x05 }, { "Ex", 0x05 },
		{ "X", 0x85 }, { "U", 0xef }, { "R", 0xfd }, { "V", 0x8e },
	};
	static const struct { const char *s; int code; } alias[] = {
		{ "linux", 0x83 }, { "swap", 0x82 }, { "extended", 0x05 },
		{ "uefi", 0xef }, { "raid", 0xfd }, { "lvm", 0x8e },
	};
	size_t i;
	uint8_t code;
	for (i = 0; i < sizeof sc / sizeof sc[0]; i++)
		if (!strcmp(t, sc[i].s))
			return sc[i].code;
	for (i = 0; i < sizeof alias / sizeof alias[0]; i++)
		if (!strcasecmp(t, alias[i].s))
			return alias[i].code;
	if ((t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && t[2] &&
	     fd_parse_hex_type(t + 2, &code) == 0) || fd_parse_hex_type(t, &code) == 0)
		return code;
	i = (size_t)fd_type_by_name(t);
	return (int)i > 0 ? (int)i : -1;
}

/* Next field of an unnamed line: empty when the line is at a separator.
 * Separators are ',' ';' or blanks, the way sfdisk splits. */
static char *next_field(char **pp, int *present)
{
	char *p = *pp, *start;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p) {
		*present = 0;
		*pp = p;
		return p;
	}
	if (*p == ',' || *p == ';') {
		*present = 1;
		*pp = p + 1;
		*p = 0;
		return p;
	}
	start = p;
	while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
		p++;
	if (*p) {
		char sep = *p;
		*p++ = 0;
		if (sep == ' ' || sep == '\t') {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == ',' || *p == ';')
				p++;
		}
	}
	*present = 1;
	*pp = p;
	return start;
}

/* sfdisk reads a leading '+' or '-' on a start or size as nothing. */
static const char *unsigned_part(const char *t)
{
	return (*t == '+' || *t == '-') ? t + 1 : t;
}

static int set_start(struct fd_script *s, struct fd_line *l, const char *t)
{
	int bytes;
	if (!*t || !strcmp(t, "-") || !strcmp(t, "+"))
		return 0;
	if (parse_num(unsigned_part(t), &l->start_raw, &bytes) < 0)
		return line_err(s, l->lineno, "bad start '%s'", t);
	l->start_bytes = bytes;
	l->start = bytes ? l->start_raw >> 9 : l->start_raw;
	l->has_start = 1;
	return 0;
}

static int set_size(struct fd_script *s, struct fd_line *l, const char *t)
{
	int bytes;
	if (!*t || !strcmp(t, "-") || !strcmp(t, "+"))
		return 0;
	if (parse_num(unsigned_part(t), &l->size, &bytes) < 0)
		return line_err(s, l->lineno, "bad size '%s'", t);
	l->size_kind = bytes ? FD_SIZE_BYTES : FD_SIZE_SECTORS;
	return 0;
}

/* Types are resolved by the builder, once the label is known. */
static int set_type(struct fd_script *s, struct fd_line *l, const char *t)
{
	if (!*t || !strcmp(t, "-"))
		return 0;
	if (strlen(t) >= sizeof l->type_text)
		return line_err(s, l->lineno, "unknown partition type '%s'", t);
	strcpy(l->type_text, t);
	return 0;
}

/* An old dump's empty slot ("start= 0, size= 0, Id= 0") is no partition;
 * otherwise a start of 0 or a size of 0 is refused. */
static int check_zero(struct fd_script *s, struct fd_line *l)
{
	int zstart = l->has_start && !l->start_raw;
	int zsize = l->size_kind != FD_SIZE_DEFAULT && !l->size;
	if (zstart && zsize) {
		s->n--;
		return 0;
	}
	if (zstart)
		return line_err(s, l->lineno, "start 0 is the partition table's own sector");
	if (zsize)
		return line_err(s, l->lineno, "size 0: a partition has at least one sector");
	return 0;
}

static int parse_unnamed(struct fd_script *s, struct fd_line *l, char *p)
{
	int present, i;
	for (i = 0; ; i++) {
		char *t = next_field(&p, &present);
		if (!present)
			return 0;
		if (i == 0 && set_start(s, l, t))
			return 1;
		if (i == 1 && set_size(s, l, t))
			return 1;
		if (i == 2 && set_type(s, l, t))
			return 1;
		if (i == 3) {
			if (!strcmp(t, "*"))
				l->bootable = 1;
			else if (*t && strcmp(t, "-"))
				return line_err(s, l->lineno, "bad bootable field '%s' (* or -)", t);
		}
		if (i > 3)
			return line_err(s, l->lineno, "too many fields ('%s')", t);
	}
}

/* "name=value": value may be quoted; returns the value. */
static char *named_value(char **pp)
{
	char *p = *pp, *v;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"') {
		v = ++p;
		while (*p && *p != '"')
			p++;
	} else {
		v = p;
		while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
	}
	if (*p)
		*p++ = 0;
	*pp = p;
	return v;
}

/* sfdisk's \xNN escapes in a value (a dump writes names that way); any
 * other backslash stays. */
static void unmangle(char *v)
{
	char *o = v;
	while (*v) {
		if (v[0] == '\\' && v[1] == 'x' && isxdigit((unsigned char)v[2]) &&
		    isxdigit((unsigned char)v[3])) {
			char hex[3] = { v[2], v[3], 0 };
			*o++ = (char)strtoul(hex, NULL, 16);
			v += 4;
		} else {
			*o++ = *v++;
		}
	}
	*o = 0;
}

static int parse_named(struct fd_script *s, struct fd_line *l, char *p)
{
	char *colon = strchr(p, ':'), *eq = strchr(p, '=');
	if (colon && colon < eq) {
		char *d;
		*colon = 0;
		d = fd_trim(p);
		if (*d) {
			char *q = d + strlen(d);
			while (q > d && isdigit((unsigned char)q[-1]))
				q--;
			if (*q) {
				unsigned long v = strtoul(q, NULL, 10);
				if (v < 1 || v > HDI_GPT_MAX_ENTRIES)
					return line_err(s, l->lineno, "bad partition number in '%s'", d);
				l->partno = (unsigned)v;
			}
		}
		p = colon + 1;
	}
	for (;;) {
		char *key, *val;
		while (*p == ' ' || *p == '\t' || *p == ',' || *p == ';')
			p++;
		if (!*p)
			return 0;
		key = p;
		if (!strncasecmp(key, "bootable", 8) &&
		    (!key[8] || strchr(" \t,;", key[8]))) {
			l->bootable = 1;
			p += 8;
			continue;
		}
		while (*p && *p != '=' && *p != ',' && *p != ' ')
			p++;
		if (*p != '=')
			return line_err(s, l->lineno, "bad field '%s'", key);
		*p++ = 0;
		val = named_value(&p);
		if (!strcasecmp(key, "start")) {
			if (set_start(s, l, val))
				return 1;
		} else if (!strcasecmp(key, "size")) {
			if (set_size(s, l, val))
				return 1;
		} else if (!strcasecmp(key, "type") || !strcasecmp(key, "Id")) {
			if (set_type(s, l, val))
				return 1;
		} else if (!strcasecmp(key, "uuid")) {
			if (hdi_guid_from_str(&l->uuid, val) < 0)
				return line_err(s, l->lineno, "bad uuid '%s' (8-4-4-4-12 "
						"hex digits)", val);
			l->has_uuid = 1;
		} else if (!strcasecmp(key, "name")) {
			unmangle(val);
			if (hdi_gpt_name_from_utf8(l->name, val) < 0)
				return line_err(s, l->lineno, "bad name \"%s\": at most 36 "
						"UTF-16 code units of UTF-8 text", val);
			l->has_name = 1;
		} else if (!strcasecmp(key, "attrs")) {
			if (fd_gpt_parse_attrs(val, &l->attrs) < 0)
				return line_err(s, l->lineno, "bad attrs \"%s\" (RequiredPartition "
						"NoBlockIOProtocol LegacyBIOSBootable GUID:48..63)", val);
			l->has_attrs = 1;
		} else {
			return line_err(s, l->lineno, "unknown field '%s'", key);
		}
	}
}

static int parse_header(struct fd_script *s, unsigned lineno, char *p)
{
	char *colon = strchr(p, ':'), *name, *val, *end;
	uint64_t v;
	*colon = 0;
	name = fd_trim(p);
	val = fd_trim(colon + 1);
	if (!strcasecmp(name, "label")) {
		if (!strcasecmp(val, "gpt"))
			s->label = FD_LABEL_GPT;
		else if (!strcasecmp(val, "dos") || !strcasecmp(val, "mbr"))
			s->label = FD_LABEL_DOS;
		else
			return line_err(s, lineno, "label '%s': dos (MBR) and gpt "
					"tables are written", val);
	} else if (!strcasecmp(name, "label-id") &&
		   hdi_guid_from_str(&s->gid, val) == HDI_OK) {
		s->has_gid = 1;
	} else if (!strcasecmp(name, "label-id")) {
		errno = 0;
		v = strtoull(val, &end, 16);
		if (errno || end == val || *end || v > 0xFFFFFFFFull || *val == '-')
			return line_err(s, lineno, "bad label-id '%s' (hex, 32 bits; "
					"a GUID for gpt)", val);
		s->has_id = 1;
		s->id = (uint32_t)v;
	} else if (!strcasecmp(name, "unit")) {
		if (strcasecmp(val, "sectors"))
			return line_err(s, lineno, "unit '%s': only sectors", val);
	} else if (!strcasecmp(name, "sector-size")) {
		if (strcmp(val, "512"))
			return line_err(s, lineno, "sector-size '%s': only 512", val);
	} else if (!strcasecmp(name, "grain")) {
		int bytes;
		if (parse_num(val, &v, &bytes) < 0 || v < 512 || (v & 511) ||
		    (v >> 9) > 0xFFFFFFFFu)
			return line_err(s, lineno, "bad grain '%s' (bytes, a multiple of 512)", val);
		s->grain = (uint32_t)(v >> 9);
	} else if (!strcasecmp(name, "first-lba") || !strcasecmp(name, "last-lba") ||
		   !strcasecmp(name, "table-length")) {
		errno = 0;
		v = strtoull(val, &end, 0);
		if (errno || end == val || *end || *val == '-' || !v ||
		    (name[0] == 't' && v > HDI_GPT_MAX_ENTRIES))
			return line_err(s, lineno, "bad %s '%s'", name, val);
		if (name[0] == 't')
			s->table_length = (uint32_t)v;
		else if (name[1] == 'i')
			s->first_lba = v;
		else
			s->last_lba = v;
	} else if (strcasecmp(name, "device")) {
		return line_err(s, lineno, "unknown header '%s'", name);
	}
	return 0;
}

int fd_script_read(struct fd_script *s, FILE *in, const char *name)
{
	char raw[8192];
	unsigned lineno = 0;
	memset(s, 0, sizeof(*s));
	s->name = strcmp(name, "-") ? name : "<stdin>";
	while (fgets(raw, sizeof raw, in)) {
		char *p;
		struct fd_line *l;
		lineno++;
		if (!strchr(raw, '\n') && !feof(in))
			return line_err(s, lineno, "line too long");
		p = fd_trim(raw);
		if (!*p || *p == '#')
			continue;
		if (is_header(p)) {
			if (s->n)
				return line_err(s, lineno, "header '%s' after the "
						"first partition line", p);
			if (parse_header(s, lineno, p))
				return 1;
			continue;
		}
		if (s->n == sizeof s->line / sizeof s->line[0])
			return line_err(s, lineno, "too many partitions");
		l = &s->line[s->n++];
		memset(l, 0, sizeof(*l));
		l->lineno = lineno;
		l->type = -1;
		if (strchr(p, '=') ? parse_named(s, l, p) : parse_unnamed(s, l, p))
			return 1;
		if (check_zero(s, l))
			return 1;
	}
	if (ferror(in))
		return line_err(s, lineno, "read error: %s", strerror(errno));
	return 0;
}

/* ---- building the table ------------------------------------------------------ */

/* sfdisk aligns the end of a partition whose size came with a unit: the
 * next sector after it goes to the nearest grain boundary inside the free
 * area (tiny partitions, below one grain, are left as asked). */
static uint32_t align_end(uint64_t start, uint64_t count, uint64_t limit,
			  uint32_t g)
{
	uint64_t stop = start + count, lo, hi, a;
	if (count < g || stop >= limit)
		return (uint32_t)count;
	lo = (start + g - 1) / g * g;
	hi = limit / g * g;
	a = stop % g ? (stop + g / 2) / g * g : stop;
	if (a < lo)
		a = lo;
	if (a > hi)
		a = hi;
	if (a <= start)
		return (uint32_t)count;
	return (uint32_t)(a - start);
}

static int build_line(struct fd_ctx *c, const struct fd_script *s,
		      struct fd_line *l, uint32_t align, int verbose)
{
	struct hdi_mbr *m = &c->m;
	const struct hdi_mbr_part *x = m->ext ? &m->p[m->ext - 1] : NULL;
	int t = l->type_text[0] ? parse_type(l->type_text) : 0x83;
	uint8_t type = (uint8_t)t;
	int ext = hdi_mbr_is_extended(type), logical, slot = 0, n, r;
	uint32_t start = (uint32_t)l->start, count = 0, ebr = 0, st = 0;
	uint32_t probe, pe, ps;
	uint64_t sz = l->size_kind == FD_SIZE_BYTES ? l->size >> 9 : l->size;
	if (t <= 0)
		return line_err(s, l->lineno, "unknown MBR partition type '%s'",
				l->type_text);
	if (l->has_uuid || l->has_name || l->has_attrs)
		return line_err(s, l->lineno, "uuid=, name= and attrs= are for "
				"GPT; an MBR partition has no such thing");
	if (l->start_bytes && (l->start_raw & 511))
		return line_err(s, l->lineno, "start is not a multiple of 512 bytes");
	if (l->has_start && l->start > 0xFFFFFFFFu)
		return line_err(s, l->lineno, "start %llu is outside 1..2^32-1 "
				"sectors", (unsigned long long)l->start);
	if (l->size_kind != FD_SIZE_DEFAULT && (!sz || sz > 0xFFFFFFFFu))
		return line_err(s, l->lineno, "size is outside 1..2^32-1 sectors");
	if (l->size_kind == FD_SIZE_SECTORS)
		count = (uint32_t)l->size;
	else if (l->size_kind == FD_SIZE_BYTES)
		count = (uint32_t)(l->size >> 9);
	if (l->partno) {
		logical = l->partno > HDI_MBR_PRIMARIES;
		if (logical && l->partno != HDI_MBR_PRIMARIES + 1 + m->nlogical)
			return line_err(s, l->lineno, "logical partitions must come "
					"in order 5, 6, ... (got %u)", l->partno);
		slot = logical ? 0 : (int)l->partno;
		if (slot && hdi_mbr_slot_used(&m->p[slot - 1]))
			return line_err(s, l->lineno, "partition %d is defined twice", slot);
	} else {
		uint32_t e2, s2, need = count ? count : 1;
		logical = !ext && x &&
			  ((l->has_start && start >= x->start &&
			    start <= x->start + (uint64_t)x->count - 1) || !fd_free_slot(m) ||
			   hdi_mbr_find_space(m, HDI_MBR_PRIMARY, align, 0, &need,
					      &e2, &s2) < 0);
		if (!logical && !(slot = fd_free_slot(m)))
			return line_err(s, l->lineno, "all four primary slots are in use");
	}
	if (logical && ext)
		return line_err(s, l->lineno, "a logical partition cannot be extended");
	if (logical && !x)
		return line_err(s, l->lineno, "logical partition without an extended one");
	r = hdi_mbr_find_space(m, logical ? HDI_MBR_LOGICAL : HDI_MBR_PRIMARY,
			       align, l->has_start ? start : 0, &count, &ebr, &st);
	if (r < 0)
		return line_err(s, l->lineno, "no free space for this partition%s",
				l->has_start ? " at its start" : "");
	if (l->size_kind == FD_SIZE_BYTES && align > 1) {
		probe = 0;
		if (hdi_mbr_find_space(m, logical ? HDI_MBR_LOGICAL : HDI_MBR_PRIMARY,
				       align, st, &probe, &pe, &ps) == 0)
			count = align_end(st, count, (uint64_t)st + probe - 1, align);
	}
	if (logical) {
		n = hdi_mbr_add_logical(m, ebr, st, count, type, l->bootable);
	} else {
		n = slot;
		r = hdi_mbr_set_primary(m, (unsigned)slot, st, count, type, l->bootable);
		if (r < 0)
			n = r;
	}
	if (n < 0)
		return line_err(s, l->lineno, "cannot add this partition: %s",
				hdi_strerror(n));
	l->result = (unsigned)n;
	if (verbose)
		printf("partition %d: start %lu, %lu sectors, type %02x%s\n", n,
		       (unsigned long)st, (unsigned long)count, type,
		       l->bootable ? ", bootable" : "");
	return 0;
}

int fd_script_build(struct fd_ctx *c, struct fd_script *s,
		    uint32_t align, int verbose)
{
	unsigned i;
	int r = hdi_mbr_clear(&c->m);
	if (r < 0)
		return ed_err_code(&c->im, "clearing the table", r);
	if (s->has_id)
		hdi_mbr_set_disk_id(&c->m, s->id);
	if (align == FD_ALIGN_DEFAULT)
		align = s->grain ? s->grain : c->m.disk_sectors <= 8192 ? 1 : 2048;
	if (s->has_gid || s->first_lba || s->last_lba || s->table_length)
		fprintf(stderr, "edqcow2: %s: warning: GPT headers (a GUID "
			"label-id, first-lba, last-lba, table-length) ignored for "
			"a dos label\n", s->name);
	for (i = 0; i < s->n; i++)
		if (build_line(c, s, &s->line[i], align, verbose))
			return 1;
	return 0;
}
