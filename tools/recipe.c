/* tools/recipe.c: reads a build recipe: ${NAME} substitution, the image
 * keys, and partition payloads; what is left is an sfdisk script with the
 * recipe's line numbers, for the fdisk code to place and check. */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "fdisk_ed.h"
#include "recipe.h"

#define RCP_LINE_MAX 8192u
#define RCP_MiB (1u << 20)

int rcp_err(const struct recipe *r, unsigned line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "edqcow2: %s:%u: ", r->path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int rcp_define(struct rcp_defines *d, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *p;
	if (!eq || eq == arg)
		return ed_err(NULL, "--define wants NAME=VALUE, not '%s'", arg);
	for (p = arg; p < eq; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return ed_err(NULL, "--define: bad name in '%s' (letters, "
				      "digits and _)", arg);
	if (d->n == RCP_MAX_DEFINES)
		return ed_err(NULL, "too many --define (at most %u)", RCP_MAX_DEFINES);
	d->name[d->n] = arg;
	d->value[d->n++] = eq + 1;
	return 0;
}

static const char *lookup(const struct rcp_defines *d, const char *name, size_t n)
{
	unsigned i;
	for (i = 0; d && i < d->n; i++)
		if (!strncmp(d->name[i], name, n) && d->name[i][n] == '=')
			return d->value[i];
	return NULL;
}

/* Replaces every ${NAME} of in; the result goes to out (cap bytes). */
static int substitute(struct recipe *r, unsigned line, const char *in,
		      char *out, size_t cap, const struct rcp_defines *d)
{
	size_t o = 0, k;
	const char *v, *e;
	while (*in) {
		if (in[0] == '$' && in[1] == '{') {
			if (!(e = strchr(in + 2, '}')))
				return rcp_err(r, line, "'${' without '}'");
			if (!(v = lookup(d, in + 2, (size_t)(e - in - 2))))
				return rcp_err(r, line, "${%.*s} is not defined (use "
					       "--define %.*s=VALUE)", (int)(e - in - 2),
					       in + 2, (int)(e - in - 2), in + 2);
			k = strlen(v);
			in = e + 1;
		} else {
			v = in++;
			k = 1;
		}
		if (o + k >= cap)
			return rcp_err(r, line, "line too long");
		memcpy(out + o, v, k);
		o += k;
	}
	out[o] = 0;
	return 0;
}

static uint64_t fnv1a(uint64_t h, const char *p, size_t n)
{
	while (n--) {
		h ^= (unsigned char)*p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static int on_off(const char *v, bool *out)
{
	if (!strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcmp(v, "1"))
		*out = true;
	else if (!strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

/* A payload or boot-code path: relative to the recipe's directory. */
static char *resolve(struct recipe *r, const char *name)
{
	return ed_resolve(r->path, name);
}

/* The recipe's own header keys; 1 = consumed, 0 = not ours (an sfdisk
 * header), -1 = error. */
static int image_key(struct recipe *r, unsigned line, const char *k, const char *v)
{
	/* The create options take their command-line spelling. */
	static const struct { const char *key, *opt; } opt[] = {
		{ .key = "format", .opt = "--format" },
		{ .key = "compat", .opt = "--compat" },
		{ .key = "cluster-size", .opt = "--cluster-size" },
		{ .key = "refcount-bits", .opt = "--refcount-bits" },
	};
	char arg[64], where[1024], *argv[2];
	size_t i;
	int j = 0;
	for (i = 0; i < sizeof opt / sizeof opt[0]; i++) {
		if (strcasecmp(k, opt[i].key))
			continue;
		snprintf(arg, sizeof arg, "%s=%s", opt[i].opt, v);
		snprintf(where, sizeof where, "%s:%u", r->path, line);
		argv[0] = arg;
		argv[1] = NULL;
		if (ed_qcow2_opts_parse(where, &r->q, 1, argv, &j) != 1)
			return -1;
		r->opts_line = line;
		/* the parser keeps a pointer into arg */
		r->q.format = strcmp(r->q.format, "raw") ? "qcow2" : "raw";
		return 1;
	}
	if (!strcasecmp(k, "lazy-refcounts") || !strcasecmp(k, "extended-l2")) {
		bool *b = tolower((unsigned char)k[0]) == 'l' ? &r->q.o.lazy_refcounts
							       : &r->q.o.extended_l2;
		if (on_off(v, b) < 0) {
			rcp_err(r, line, "%s wants on or off, not '%s'", k, v);
			return -1;
		}
		r->opts_line = line;
		return 1;
	}
	if (!strcasecmp(k, "size")) {
		r->size_line = line;
		r->size_auto = !strcasecmp(v, "auto");
		if (!r->size_auto && (ed_parse_size(v, &r->size) || !r->size)) {
			rcp_err(r, line, "bad disk size '%s' (bytes with K/M/G/T, "
				"or auto)", v);
			return -1;
		}
		return 1;
	}
	if (!strcasecmp(k, "bootcode")) {
		free(r->bootcode);
		r->bootcode = resolve(r, v);
		r->bootcode_line = line;
		return 1;
	}
	if (!strcasecmp(k, "compression")) {
		if (strcasecmp(v, "none") && strcasecmp(v, "zlib") && strcasecmp(v, "zstd")) {
			rcp_err(r, line, "compression is none, zlib or zstd, not '%s'", v);
			return -1;
		}
		r->compression = strcasecmp(v, "none") ? (!strcasecmp(v, "zlib") ?
							  "zlib" : "zstd") : NULL;
		r->q.o.compression_type = r->compression && !strcmp(r->compression, "zstd")
					  ? HDI_QCOW2_COMPRESSION_ZSTD
					  : HDI_QCOW2_COMPRESSION_ZLIB;
		r->compression_line = r->opts_line = line;
		return 1;
	}
	return 0;
}

/* Splits a partition line's fields (comma, semicolon or blank separated;
 * "quoted" values keep their blanks). Returns the number of fields. */
static int split_fields(char *p, char **f, int max)
{
	int n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',' || *p == ';')
			p++;
		if (!*p)
			return n;
		if (n == max)
			return -1;
		f[n++] = p;
		while (*p && !strchr(" \t,;", *p)) {
			if (*p == '=' && (p[1] == ' ' || p[1] == '\t')) {
				/* "start= 0": the value follows the blanks */
				char *v = p + 1;
				while (*v == ' ' || *v == '\t')
					v++;
				memmove(p + 1, v, strlen(v) + 1);
			}
			if (*p++ == '"') {
				while (*p && *p != '"')
					p++;
				if (*p)
					p++;
			}
		}
		if (*p)
			*p++ = 0;
	}
}

static int payload_file(struct recipe *r, struct rcp_part *pt, const char *v)
{
	struct stat st;
	if (pt->file)
		return rcp_err(r, pt->line, "file= is given twice");
	pt->file = resolve(r, v);
	if (!pt->file)
		return rcp_err(r, pt->line, "out of memory");
	if (stat(pt->file, &st) < 0)
		return rcp_err(r, pt->line, "file '%s': %s", pt->file, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return rcp_err(r, pt->line, "file '%s' is not a regular file", pt->file);
	pt->file_size = (uint64_t)st.st_size;
	return 0;
}

/* Rewrites a partition line into out: file= goes, size=auto becomes the
 * payload's size in sectors rounded up to the grain, size=rest goes (sfdisk
 * then takes all the free space after the start). */
static int part_line(struct recipe *r, struct rcp_part *pt, char *p,
		     uint64_t grain, char *out, size_t cap)
{
	char *f[32], *colon = strchr(p, ':'), *eq = strchr(p, '=');
	int n, i;
	size_t o = 0;
	uint64_t sz;
	out[0] = 0;
	if (!eq) {           /* positional form: nothing of ours in it */
		snprintf(out, cap, "%s", p);
		return 0;
	}
	if (colon && colon < eq) {
		*colon = 0;
		o = (size_t)snprintf(out, cap, "%s : ", p);
		p = colon + 1;
	}
	if ((n = split_fields(p, f, 32)) < 0)
		return rcp_err(r, pt->line, "too many fields");
	for (i = 0; i < n; i++) {
		if (!strncasecmp(f[i], "file=", 5)) {
			if (payload_file(r, pt, f[i] + 5))
				return 1;
			continue;
		}
		if (!strcasecmp(f[i], "size=auto")) {
			pt->size_auto = 1;
			continue;
		}
		if (!strcasecmp(f[i], "size=rest")) {
			pt->size_rest = 1;
			continue;
		}
		if (o + strlen(f[i]) + 3 >= cap)
			return rcp_err(r, pt->line, "line too long");
		o += (size_t)snprintf(out + o, cap - o, "%s%s", o && out[o - 1] != ' ' ? ", " : "", f[i]);
	}
	if (pt->size_auto && pt->size_rest)
		return rcp_err(r, pt->line, "size=auto and size=rest together");
	if (pt->size_auto) {
		if (!pt->file)
			return rcp_err(r, pt->line, "size=auto needs file=");
		sz = (pt->file_size + grain - 1) / grain * grain;
		if (!sz)
			sz = grain;
		o += (size_t)snprintf(out + o, cap > o ? cap - o : 0, "%ssize=%llu",
				      o && out[o - 1] != ' ' ? ", " : "",
				      (unsigned long long)(sz >> 9));
	}
	if (o >= cap)
		return rcp_err(r, pt->line, "line too long");
	return 0;
}

/* The grain sizes are aligned to: the recipe's "grain:" header, else 1 MiB
 * (sfdisk's default on disks over 4 MiB). */
static uint64_t header_grain(const char *k, const char *v, uint64_t grain)
{
	uint64_t g;
	if (strcasecmp(k, "grain") || ed_parse_size(v, &g) || g < 512 || (g & 511))
		return grain;
	return g;
}

static int one_line(struct recipe *r, unsigned line, char *raw, char *out,
		    size_t cap, uint64_t *grain)
{
	char *p = fd_trim(raw), *colon, *k, *v;
	struct rcp_part *pt;
	int c;
	out[0] = 0;
	if (!*p || *p == '#')
		return 0;
	colon = strchr(p, ':');
	if (colon && colon != p && colon[1] && !strchr(p, '=')) {
		if (r->nparts)
			return rcp_err(r, line, "header '%s' after the first "
				       "partition line", p);
		*colon = 0;
		k = fd_trim(p);
		v = fd_trim(colon + 1);
		if ((c = image_key(r, line, k, v)) < 0)
			return 1;
		if (!c) {
			*grain = header_grain(k, v, *grain);
			snprintf(out, cap, "%s: %s", k, v);
		}
		return 0;
	}
	if (r->nparts == RCP_MAX_PARTS)
		return rcp_err(r, line, "too many partitions");
	pt = &r->part[r->nparts++];
	pt->line = line;
	return part_line(r, pt, p, *grain, out, cap);
}

static int check_parts(struct recipe *r)
{
	unsigned i, rest = 0;
	for (i = 0; i < r->nparts; i++) {
		if (!r->part[i].size_rest)
			continue;
		if (rest)
			return rcp_err(r, r->part[i].line, "size=rest is already "
				       "used on line %u", rest);
		rest = r->part[i].line;
		if (r->size_auto)
			return rcp_err(r, rest, "size=rest needs a disk size "
				       "(size: is auto)");
	}
	if (r->compression && r->q.format && !strcmp(r->q.format, "raw"))
		return rcp_err(r, r->compression_line, "compression needs format qcow2");
	return 0;
}

static int read_all(struct recipe *r, FILE *in, const struct rcp_defines *d)
{
	char *raw = malloc(RCP_LINE_MAX), *sub = malloc(RCP_LINE_MAX);
	char *out = malloc(RCP_LINE_MAX);
	size_t len = 0, cap = 0, n;
	unsigned line = 0;
	uint64_t grain = RCP_MiB;
	int rc = raw && sub && out ? 0 : ed_err(r->path, "out of memory");
	r->hash = 0xcbf29ce484222325ull;
	while (!rc && fgets(raw, RCP_LINE_MAX, in)) {
		line++;
		if (!strchr(raw, '\n') && !feof(in)) {
			rc = rcp_err(r, line, "line too long");
			break;
		}
		r->hash = fnv1a(r->hash, raw, strlen(raw));
		rc = substitute(r, line, raw, sub, RCP_LINE_MAX, d) ||
		     one_line(r, line, sub, out, RCP_LINE_MAX, &grain);
		n = strlen(out);
		if (!rc && len + n + 2 > cap) {
			char *s = realloc(r->script, cap = (len + n + 2) * 2);
			if (!s)
				rc = ed_err(r->path, "out of memory");
			else
				r->script = s;
		}
		if (!rc) {
			memcpy(r->script + len, out, n);
			len += n;
			r->script[len++] = '\n';
			r->script[len] = 0;
		}
	}
	if (!rc && ferror(in))
		rc = rcp_err(r, line, "read error: %s", strerror(errno));
	free(raw);
	free(sub);
	free(out);
	return rc;
}

int rcp_read(struct recipe *r, const char *path, const struct rcp_defines *d)
{
	FILE *in;
	int rc;
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->size_auto = 1;
	ed_qcow2_opts_init(&r->q);
	if (!(in = fopen(path, "r")))
		return ed_err(path, "cannot open the recipe: %s", strerror(errno));
	rc = read_all(r, in, d);
	fclose(in);
	if (!rc && !r->script)
		r->script = strdup("");
	if (!rc && !r->nparts)
		rc = rcp_err(r, 1, "no partition lines");
	if (!rc)
		rc = check_parts(r);
	if (!rc) {
		/* a refused combination names the last option line */
		char where[1024];
		snprintf(where, sizeof where, "%s:%u", path, r->opts_line);
		if (ed_qcow2_opts_check(r->opts_line ? where : path, &r->q))
			rc = 1;
	}
	return rc;
}

void rcp_free(struct recipe *r)
{
	unsigned i;
	for (i = 0; i < r->nparts; i++)
		free(r->part[i].file);
	free(r->bootcode);
	free(r->script);
	memset(r, 0, sizeof(*r));
}
