/* tools/out_tmp.c: outputs written under a temporary name beside their
 * final one and renamed when complete, removed on failure or a signal, so
 * OUT is either the old file or the whole new one. */
#define _FILE_OFFSET_BITS 64
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ed.h"

/* The temporary file, removed if we are interrupted. */
static char *tmp_path;
/* An existing OUT, locked for writing until it is replaced, so that an
 * image QEMU uses is refused as qemu-img refuses it. */
static struct file_dev guard;

static const int signals[] = {
	SIGINT, SIGTERM,
#ifdef SIGHUP
	SIGHUP,
#endif
#ifdef SIGBUS
	SIGBUS,   /* a mapped source shrank under us */
#endif
};

static void on_signal(int sig)
{
	if (tmp_path)
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm(void (*fn)(int))
{
	size_t i;
	for (i = 0; i < sizeof signals / sizeof signals[0]; i++)
		signal(signals[i], fn);
}

char *ed_tmp_begin(const char *out)
{
	size_t n = strlen(out);
	char *p = malloc(n + 16);
	mode_t um;
	int fd;
	if (!p) {
		ed_err(out, "out of memory");
		return NULL;
	}
	if (ed_output_guard(&guard, out)) {
		free(p);
		return NULL;
	}
	memcpy(p, out, n);
	memcpy(p + n, ".tmp-XXXXXX", 12);
	fd = mkstemp(p);
	if (fd < 0) {
		ed_err(out, "cannot create a temporary file: %s", strerror(errno));
		free(p);
		if (guard.f)
			file_dev_close(&guard);
		return NULL;
	}
	/* mkstemp makes it private; the result gets the usual mode */
#ifndef _WIN32
	um = umask(0);
	umask(um);
	fchmod(fd, 0666 & ~um);
#else
	(void)um;
#endif
	close(fd);
	tmp_path = p;
	arm(on_signal);
	return p;
}

int ed_tmp_end(const char *tmp, const char *out, int discard)
{
	int rc = 0;
	if (!discard) {
#ifdef _WIN32
		remove(out);   /* Windows' rename does not replace */
#endif
		if (rename(tmp, out))
			rc = ed_err(out, "cannot rename the finished image: %s",
				    strerror(errno));
	}
	if (discard || rc)
		unlink(tmp);
	if (guard.f)
		file_dev_close(&guard);
	arm(SIG_DFL);
	tmp_path = NULL;
	return discard && !rc ? 0 : rc;
}
