/* tools/fdisk_gpt_print.c: GPT text: `fdisk dump` as sfdisk -d prints a
 * gpt label, `fdisk list` as fdisk -l, type names and shortcuts, and the
 * attrs="..." syntax both read and print. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fdisk_ed.h"

const char *fd_gpt_type_name(const struct hdi_guid *t)
{
	unsigned i;
	for (i = 0; i < fd_gpt_ntypes; i++) {
		struct hdi_guid g;
		if (hdi_guid_from_str(&g, fd_gpt_types[i].guid) == HDI_OK &&
		    hdi_guid_eq(&g, t))
			return fd_gpt_types[i].name;
	}
	return NULL;
}

int fd_gpt_parse_type(const char *s, struct hdi_guid *t)
{
	unsigned i;
	if (hdi_guid_from_str(t, s) == HDI_OK)
		return 0;
	for (i = 0; i < hdi_gpt_ntypes; i++) {
		const struct hdi_gpt_type *k = &hdi_gpt_types[i];
		if ((k->shortcut && !strcmp(s, k->shortcut)) ||
		    (k->alias && !strcasecmp(s, k->alias)))
			return hdi_guid_from_str(t, k->guid) == HDI_OK ? 0 : -1;
	}
	for (i = 0; i < fd_gpt_ntypes; i++)
		if (!strcasecmp(s, fd_gpt_types[i].name))
			return hdi_guid_from_str(t, fd_gpt_types[i].guid) == HDI_OK ? 0 : -1;
	return -1;
}

static const struct { const char *name; unsigned bit; } attr_names[] = {
	{ "RequiredPartition", 0 }, { "NoBlockIOProtocol", 1 },
	{ "LegacyBIOSBootable", 2 },
};

int fd_gpt_parse_attrs(const char *s, uint64_t *attrs)
{
	uint64_t a = 0;
	while (*s) {
		size_t n, i;
		if (*s == ' ' || *s == ',' || *s == '\t') {
			s++;
			continue;
		}
		if (!strncmp(s, "GUID:", 5)) {
			s += 5;
			continue;
		}
		if (isdigit((unsigned char)*s)) {
			char *end;
			unsigned long bit = strtoul(s, &end, 10);
			if (bit < 48 || bit > 63)
				return -1;
			a |= 1ull << bit;
			s = end;
			continue;
		}
		n = strcspn(s, " ,\t");
		for (i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++)
			if (strlen(attr_names[i].name) == n &&
			    !strncmp(s, attr_names[i].name, n))
				break;
		if (i == sizeof attr_names / sizeof attr_names[0])
			return -1;
		a |= 1ull << attr_names[i].bit;
		s += n;
	}
	*attrs = a;
	return 0;
}

/* libfdisk's form: the named bits, then "GUID:" and the set bits 48-63;
 * bits 3-47 have no name and are not shown. */
void fd_gpt_attrs_str(uint64_t attrs, char *out, size_t size)
{
	size_t o = 0, i;
	unsigned bit, nguid = 0;
	out[0] = 0;
	for (i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++)
		if (attrs & (1ull << attr_names[i].bit))
			o += (size_t)snprintf(out + o, size - o, "%s%s", o ? " " : "",
					      attr_names[i].name);
	for (bit = 48; bit < 64 && o < size; bit++) {
		if (!(attrs & (1ull << bit)))
			continue;
		o += (size_t)snprintf(out + o, size - o, "%s%u",
				      nguid++ ? "," : o ? " GUID:" : "GUID:", bit);
	}
}

uint64_t fd_default_grain(uint64_t disk_bytes, uint32_t sector)
{
	return disk_bytes <= (4u << 20) ? 1u : (1u << 20) / sector;
}

/* As libfdisk writes a name: bytes outside printable ASCII, the backslash
 * and the double quote as \xNN (the reader takes \xNN back). */
static void put_mangled(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch >= 0x7f || ch == '\\' || ch == '"')
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
}

void fd_gpt_print_dump(FILE *f, const char *image, const struct hdi_gpt *g)
{
	char id[37], ty[37], at[160], name[HDI_GPT_NAME_UTF8_MAX];
	char dev[4096];
	uint32_t i;
	uint64_t bytes = g->disk_sectors * g->sector;
	hdi_guid_to_str(&g->disk_guid, id);
	fprintf(f, "label: gpt\nlabel-id: %s\ndevice: %s\nunit: sectors\n"
		"first-lba: %llu\nlast-lba: %llu\n", id, image,
		(unsigned long long)g->first_usable,
		(unsigned long long)g->last_usable);
	if (g->nentries != HDI_GPT_DEFAULT_ENTRIES)
		fprintf(f, "table-length: %u\n", (unsigned)g->nentries);
	if (fd_default_grain(bytes, g->sector) == 1)
		fprintf(f, "grain: %u\n", (unsigned)g->sector);
	fprintf(f, "sector-size: %u\n", (unsigned)g->sector);
	for (i = 0; i < g->nparts; i++) {
		const struct hdi_gpt_part *p = &g->parts[i];
		if (!i)
			fputc('\n', f);
		fd_partname(dev, sizeof dev, image, p->slot + 1u);
		hdi_guid_to_str(&p->type, ty);
		hdi_guid_to_str(&p->uuid, id);
		fprintf(f, "%s : start=%12llu, size=%12llu, type=%s, uuid=%s", dev,
			(unsigned long long)p->first,
			(unsigned long long)(p->last - p->first + 1u), ty, id);
		hdi_gpt_name_to_utf8(p->name, name);
		if (name[0]) {
			fputs(", name=\"", f);
			put_mangled(f, name);
			fputc('"', f);
		}
		fd_gpt_attrs_str(p->attrs, at, sizeof at);
		if (at[0])
			fprintf(f, ", attrs=\"%s\"", at);
		fputc('\n', f);
	}
}

enum { G_DEV, G_START, G_END, G_SECTORS, G_SIZE, G_TYPE, GCOL };
#define GCELL 64

void fd_gpt_print_list(FILE *f, const char *image, const struct hdi_gpt *g)
{
	static const char *const heads[GCOL] = { "Device", "Start", "End",
		"Sectors", "Size", "Type" };
	static const unsigned hints[GCOL] = { 10, 5, 5, 5, 5, 0 };
	static const int right[GCOL] = { 0, 1, 1, 1, 1, 0 };
	static const struct fd_cols cols = { GCOL, heads, hints, right };
	char id[37];
	const char **cells;
	struct { char dev[4200]; char c[GCOL][GCELL]; } *text;
	uint64_t last = 0;
	uint32_t i, c;
	int order_bad = 0;
	fd_print_disk(f, image, g->disk_sectors * g->sector, g->sector);
	hdi_guid_to_str(&g->disk_guid, id);
	fprintf(f, "Disklabel type: gpt\nDisk identifier: %s\n", id);
	if (!g->nparts)
		return;
	cells = calloc(g->nparts, sizeof(*cells) * GCOL);
	text = calloc(g->nparts, sizeof(*text));
	if (!cells || !text) {
		free(cells);
		free(text);
		return;
	}
	for (i = 0; i < g->nparts; i++) {
		const struct hdi_gpt_part *p = &g->parts[i];
		uint64_t n = p->last - p->first + 1u;
		const char *tn = fd_gpt_type_name(&p->type);
		fd_partname(text[i].dev, sizeof text[i].dev, image, p->slot + 1u);
		snprintf(text[i].c[G_START], GCELL, "%llu", (unsigned long long)p->first);
		snprintf(text[i].c[G_END], GCELL, "%llu", (unsigned long long)p->last);
		snprintf(text[i].c[G_SECTORS], GCELL, "%llu", (unsigned long long)n);
		fd_human(text[i].c[G_SIZE], GCELL, n * g->sector, 0);
		snprintf(text[i].c[G_TYPE], GCELL, "%s", tn ? tn : "unknown");
		for (c = 0; c < GCOL; c++)
			cells[i * GCOL + c] = c == G_DEV ? text[i].dev : text[i].c[c];
		if (p->first < last)
			order_bad = 1;
		last = p->first;
	}
	fputc('\n', f);
	fd_table(f, &cols, cells, g->nparts);
	if (order_bad)
		fprintf(f, "\nPartition table entries are not in disk order.\n");
	free(cells);
	free(text);
}
