/* host/path.c: backing-file names resolved beside the image naming them. */
#include "path.h"
#include <string.h>

static int is_drive(const char *p)
{
	return ((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')) &&
	       p[1] == ':';
}

int path_is_absolute(const char *name, int windows)
{
	if (name[0] == '/')
		return 1;
	return windows && (name[0] == '\\' || is_drive(name));
}

/* Length of overlay's directory part, separator included ("C:" counts
 * as a directory on Windows: "C:disk.qcow2" names a file there). */
static size_t dir_len(const char *overlay, int windows)
{
	size_t i, n = windows && is_drive(overlay) ? 2 : 0;
	for (i = 0; overlay[i]; i++)
		if (overlay[i] == '/' || (windows && overlay[i] == '\\'))
			n = i + 1;
	return n;
}

size_t path_beside(char *out, size_t cap, const char *overlay,
		       const char *name, int windows)
{
	size_t d = path_is_absolute(name, windows) ? 0 : dir_len(overlay, windows);
	size_t n = strlen(name), i, k = 0;
	for (i = 0; i < d + n; i++) {
		char ch = i < d ? overlay[i] : name[i - d];
		if (k + 1 < cap)
			out[k++] = ch;
	}
	if (cap)
		out[k] = '\0';
	return d + n;
}
