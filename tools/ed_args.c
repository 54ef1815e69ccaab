/* tools/ed_args.c: qemu-img's spellings, shared by every command: its word
 * order (`edqcow2 COMMAND [options] IMAGE...`), -f FMT, -q, -U, and the
 * -o key=value,... lists. main.c turns both word orders into one call. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ed.h"

#ifdef _WIN32
#define NULL_DEVICE "NUL"
#else
#define NULL_DEVICE "/dev/null"
#endif

int ed_force_share;

/* Long options that take their value as the next argument (the "--x=v"
 * form needs no entry). The word order must know them to tell a value
 * from the image name; a command adding one adds it here. */
static const char *const long_vals[] = {
	"--output", "--snapshot", "--format", "--compat", "--cluster-size",
	"--refcount-bits", "--backing", "--backing-format", "--preallocation",
	"--workspace", "--repair", "--size", "--type", "--start", "--align",
	"--geometry", "--offset", "--object", "--cache", "--name", "--uuid",
	"--attrs", "--label", "--jobs", "--compression-type", "--define",
	"--sector-size", "--seed",
};

static int takes_value(const char *shorts, const char *a)
{
	size_t i;
	if (a[0] != '-' || !a[1])
		return 0;
	if (a[1] != '-')
		return !a[2] && shorts && strchr(shorts, a[1]);
	if (strchr(a, '='))
		return 0;
	for (i = 0; i < sizeof long_vals / sizeof long_vals[0]; i++)
		if (!strcmp(a, long_vals[i]))
			return 1;
	return 0;
}

/* Positions of the positional words of argv[1..argc-1] (argv[0] is the
 * command), in order; returns their count. */
static int positionals(const char *shorts, int argc, char **argv, int *pos)
{
	int i, n = 0, dashdash = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!dashdash && !strcmp(a, "--")) {
			dashdash = 1;
			continue;
		}
		if (dashdash || a[0] != '-' || !a[1])
			pos[n++] = i;
		else if (takes_value(shorts, a))
			i++;
	}
	return n;
}

int ed_is_path(const char *s)
{
	return access(s, F_OK) == 0;
}

int ed_qimg_order(const char *shorts, int out_last, int argc, char **argv,
		  const char **image, int *nargc, char ***nargv)
{
	int *pos = malloc(sizeof(int) * (size_t)(argc + 1));
	char **v = malloc(sizeof(char *) * (size_t)(argc + 1));
	int n, i, k = 0, skip_b = -1;
	if (!pos || !v) {
		free(pos);
		free(v);
		return ed_err(argv[0], "out of memory");
	}
	n = positionals(shorts, argc, argv, pos);
	*image = NULL;
	v[k++] = argv[0];
	if (n > 0)
		*image = argv[pos[0]];
	/* convert IN OUT: OUT comes right after the command in our order */
	if (out_last && n > 1) {
		if (n > 2) {
			const char *extra = argv[pos[1]];
			free(pos);
			free(v);
			return ed_err(argv[0], "several input images are not supported (%s)",
				      extra);
		}
		skip_b = pos[n - 1];
		v[k++] = argv[skip_b];
	}
	/* the other words first, then the options (getopt lets qemu-img take
	 * options anywhere; our commands read their words first) */
	for (i = 1; i < n; i++)
		if (pos[i] != skip_b)
			v[k++] = argv[pos[i]];
	for (i = 1; i < argc; i++) {
		int j, is_pos = 0;
		for (j = 0; j < n; j++)
			is_pos |= pos[j] == i;
		if (!is_pos && strcmp(argv[i], "--"))
			v[k++] = argv[i];
	}
	v[k] = NULL;
	free(pos);
	*nargc = k;
	*nargv = v;
	return 0;
}

int ed_check_format(const char *image, const char *fmt)
{
	unsigned char m[4];
	FILE *f;
	int is_q = 0;
	if (strcmp(fmt, "raw") && strcmp(fmt, "qcow2"))
		return ed_err(image, "unknown or unsupported format '%s' (edqcow2 reads raw and qcow2)",
			      fmt);
	f = fopen(image, "rb");
	if (!f)
		return 0;    /* the command reports the open error itself */
	is_q = fread(m, 1, 4, f) == 4 && hdi_qcow2_probe(m, 4);
	fclose(f);
	if (!strcmp(fmt, "qcow2") && !is_q)
		return ed_err(image, "Image is not in qcow2 format");
	if (!strcmp(fmt, "raw") && is_q)
		return ed_err(image, "this is a qcow2 image; reading it as raw (-f raw) is not supported");
	return 0;
}

/* qemu-img snapshot's flags in our words: -l list, -c/-a/-d NAME. */
static void snapshot_words(int *argc, char **argv)
{
	static char list[] = "list", create[] = "create", apply[] = "apply",
		    del[] = "delete";
	int i;
	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-l"))
			argv[i] = list;
		else if (!strcmp(a, "-c") || !strcmp(a, "-a") || !strcmp(a, "-d"))
			argv[i] = a[1] == 'c' ? create : a[1] == 'a' ? apply : del;
		else
			continue;
		/* the verb goes first, its name after it */
		if (i != 1) {
			char *verb = argv[i], *name = i + 1 < *argc ? argv[i + 1] : NULL;
			int k, w = verb == list ? 1 : 2;
			if (w == 2 && !name)
				return;
			for (k = i - 1; k >= 1; k--)
				argv[k + w] = argv[k];
			argv[1] = verb;
			if (w == 2)
				argv[2] = name;
		}
		return;
	}
}

/* Commands where qemu-img takes -q (quiet: no informational output). */
static int has_quiet(const char *cmd)
{
	static const char *const q[] = {
		"create", "convert", "check", "compare", "resize", "snapshot",
		"commit", "rebase", "amend",
	};
	size_t i;
	for (i = 0; i < sizeof q / sizeof q[0]; i++)
		if (!strcmp(cmd, q[i]))
			return 1;
	return 0;
}

int ed_common_opts(const char *image, int *argc, char **argv)
{
	const char *cmd = argv[0];
	int i, k = 1, quiet = 0;
	for (i = 1; i < *argc; i++) {
		const char *a = argv[i], *fmt = NULL;
		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[k++] = argv[i++];
			break;
		}
		/* create's -f is the new image's format: create parses it */
		if (strcmp(cmd, "create") && !strcmp(a, "-f")) {
			if (i + 1 >= *argc)
				return ed_err(image, "option -f needs a format");
			fmt = argv[++i];
		} else if (strcmp(cmd, "create") && !strncmp(a, "-f", 2) &&
			   a[2] && strcmp(cmd, "fdisk")) {
			fmt = a + 2;
		} else if (!strcmp(a, "-U") || !strcmp(a, "--force-share")) {
			ed_force_share = 1;
			continue;
		} else if (!strcmp(a, "-q") && has_quiet(cmd)) {
			quiet = 1;
			continue;
		} else if (takes_value(NULL, a) && i + 1 < *argc) {
			argv[k++] = argv[i++];     /* keep "--x VALUE" together */
			argv[k++] = argv[i];
			continue;
		} else {
			argv[k++] = argv[i];
			continue;
		}
		if (image && ed_check_format(image, fmt))
			return 1;
	}
	argv[k] = NULL;
	*argc = k;
	if (!strcmp(cmd, "snapshot"))
		snapshot_words(argc, argv);
	if (quiet && !freopen(NULL_DEVICE, "w", stdout))
		return ed_err(image, "cannot silence output");
	return 0;
}

/* ---- -o key=value,... -------------------------------------------------- */

/* The split copies of -o lists: options keep pointers into them until the
 * process ends (kept reachable here, so leak checkers agree). */
struct o_copy {
	struct o_copy *next;
	char text[1];
};
static struct o_copy *o_copies;

int ed_o_each(const char *image, const char *list,
	      int (*fn)(void *ctx, const char *key, const char *val), void *ctx)
{
	size_t n = strlen(list);
	struct o_copy *cp = malloc(sizeof *cp + n + 1);
	char *buf, *p, *w;
	int r = 0;
	if (!cp)
		return ed_err(image, "out of memory");
	cp->next = o_copies;
	o_copies = cp;
	buf = cp->text;
	p = (char *)list;
	w = buf;
	while (*p && !r) {
		char *key = w, *val = NULL;
		/* qemu's escaping: ",," is a literal comma */
		for (; *p; p++) {
			if (*p == ',' && p[1] == ',') {
				*w++ = *p++;
				continue;
			}
			if (*p == ',')
				break;
			if (*p == '=' && !val) {
				*w++ = 0;
				val = w;
				continue;
			}
			*w++ = *p;
		}
		*w++ = 0;
		if (*p == ',')
			p++;
		if (!*key)
			continue;
		r = fn(ctx, key, val);
	}
	return r;
}

int ed_parse_bool(const char *v, int *out)
{
	static const char *const on[] = { "on", "yes", "true", "y" };
	static const char *const off[] = { "off", "no", "false", "n" };
	size_t i;
	if (!v) {                 /* a bare "-o lazy_refcounts" means on */
		*out = 1;
		return 0;
	}
	for (i = 0; i < 4; i++) {
		if (!strcmp(v, on[i]))
			return *out = 1, 0;
		if (!strcmp(v, off[i]))
			return *out = 0, 0;
	}
	return -1;
}
