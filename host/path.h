/* host/path.h: where a backing file named inside an image lies: relative
 * names are taken from the directory of the image that names them, as
 * QEMU's path_combine does, with Windows' drive letters and backslashes
 * when asked for (so the Windows rules are testable on any host). */
#ifndef HOST_PATH_H
#define HOST_PATH_H

#include <stddef.h>

#ifdef _WIN32
#define PATH_NATIVE 1
#else
#define PATH_NATIVE 0
#endif

/* Is name absolute ("/x"; on Windows also "\x", "C:\x", "C:x")? */
int path_is_absolute(const char *name, int windows);
/* Writes name resolved against overlay's directory into out (cap bytes,
 * NUL-terminated). Returns the length it needs without the NUL; out holds
 * the whole result only when that is below cap. */
size_t path_beside(char *out, size_t cap, const char *overlay,
		       const char *name, int windows);

#endif
