/* tools/read_util.c: shared helpers of the read-side commands: snapshot
 * selection, host-file data/hole probing, JSON and size formatting. */
#define _FILE_OFFSET_BITS 64
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#ifndef _WIN32
#include <sys/mman.h>
#endif
#include "ed_read.h"

int edr_open(struct ed_image *im, const char *image, const char *snapshot)
{
	return edr_open_flags(im, image, snapshot, 0);
}

int edr_open_flags(struct ed_image *im, const char *image,
		   const char *snapshot, int flags)
{
	int r = ed_open(im, image, flags), idx;
	if (r)
		return r;
	if (!snapshot)
		return 0;
	if (!im->is_qcow2) {
		ed_close(im);
		return ed_err(image, "snapshots need a qcow2 image");
	}
	idx = hdi_qcow2_snapshot_find(&im->q, snapshot);
	if (idx == HDI_ENOENT) {
		ed_close(im);
		return ed_err(image, "snapshot '%s' not found", snapshot);
	}
	r = idx < 0 ? idx : hdi_qcow2_snapshot_select(&im->q, (uint32_t)idx);
	if (r < 0) {
		ed_err_code(im, "cannot load snapshot", r);
		ed_close(im);
		return r;
	}
	return 0;
}

int edr_snapshot_opt(int argc, char **argv, int *i, const char **out)
{
	const char *a = argv[*i];
	if (!strncmp(a, "--snapshot=", 11)) {
		*out = a + 11;
		return 1;
	}
	if (strcmp(a, "--snapshot") && strcmp(a, "-s") && strcmp(a, "-l"))
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*out = argv[++*i];
	return 1;
}

int edr_json_opt(int argc, char **argv, int *i, int *json)
{
	const char *a = argv[*i], *v = NULL;
	if (!strcmp(a, "--json")) {
		*json = 1;
		return 1;
	}
	if (!strncmp(a, "--output=", 9))
		v = a + 9;
	else if (!strcmp(a, "--output") && *i + 1 < argc)
		v = argv[++*i];
	else
		return 0;
	if (!strcmp(v, "json"))
		*json = 1;
	else if (!strcmp(v, "human"))
		*json = 0;
	else
		return -1;
	return 1;
}

void edr_file_run(FILE *f, uint64_t size, uint64_t off, uint64_t max,
		  int *data, uint64_t *len)
{
	*data = 1;
	*len = max;
	if (off >= size)
		return;
	max = max < size - off ? max : size - off;
	*len = max;
#if defined(SEEK_DATA) && defined(SEEK_HOLE)
	{
		int fd = fileno(f);
		off_t d = lseek(fd, (off_t)off, SEEK_DATA), h;
		if (d < 0 || (uint64_t)d > off) {
			/* a hole at off (up to the next data, or the end) */
			*data = 0;
			if (d >= 0 && (uint64_t)d - off < max)
				*len = (uint64_t)d - off;
			return;
		}
		h = lseek(fd, (off_t)off, SEEK_HOLE);
		if (h >= 0 && (uint64_t)h > off && (uint64_t)h - off < max)
			*len = (uint64_t)h - off;
	}
#else
	(void)f;
#endif
}

int64_t edr_allocated(FILE *f)
{
	struct stat st;
	if (fstat(fileno(f), &st))
		return -1;
#ifdef _WIN32
	return (int64_t)st.st_size;   /* no block count there: the file size */
#else
	return (int64_t)st.st_blocks * 512;
#endif
}

void edr_json_str(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(o, "\\%c", c);
		else if (c < 0x20)
			fprintf(o, "\\u%04x", c);
		else
			fputc(c, o);
	}
	fputc('"', o);
}

void edr_human_size(char *buf, size_t cap, uint64_t v)
{
	static const char *suf[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	int i = 0;
	/* switch unit once the value would print as >= 1000 */
	while (i < 6 && (double)v * 1.024 >= (double)(1ull << (10 * (i + 1))))
		i++;
	snprintf(buf, cap, "%0.3g %sB", (double)v / (double)(1ull << (10 * i)), suf[i]);
}

const unsigned char *edr_map(FILE *f, uint64_t file_size, uint64_t off,
			     size_t n, void **base, size_t *len)
{
#ifndef _WIN32
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t a;
	void *m;
	if (off == UINT64_MAX || pg <= 0 || off > file_size || n > file_size - off)
		return NULL;
	a = off & ~(uint64_t)(pg - 1);
	*len = n + (size_t)(off - a);
	m = mmap(NULL, *len, PROT_READ, MAP_SHARED, fileno(f), (off_t)a);
	if (m == MAP_FAILED)
		return NULL;
	*base = m;
	return (const unsigned char *)m + (off - a);
#else
	(void)f; (void)file_size; (void)off; (void)n; (void)base; (void)len;
	return NULL;
#endif
}

void edr_unmap(void *base, size_t len)
{
#ifndef _WIN32
	if (base)
		munmap(base, len);
#else
	(void)base;
	(void)len;
#endif
}

int ed_all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	/* all bytes equal the first, and the first is zero */
	return !n || (!b[0] && !memcmp(b, b + 1, n - 1));
}
