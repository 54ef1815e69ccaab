/* tools/cmd_read.c: edqcow2 read: bytes of the virtual disk (or of a
 * snapshot's disk) to stdout. */
#define _FILE_OFFSET_BITS 64
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "ed_read.h"

#define CHUNK (1u << 20)

static const char *read_usage =
	"usage: edqcow2 IMAGE read OFFSET LENGTH [--snapshot ID|NAME]\n"
	"  Writes LENGTH bytes of the virtual disk from OFFSET to stdout.\n"
	"  Sizes take K/M/G/T suffixes (powers of 1024).\n";

static int copy_out(struct ed_image *im, uint64_t off, uint64_t len)
{
	unsigned char *buf = malloc(CHUNK);
	int r = 0;
	if (!buf)
		return ed_err(im->path, "out of memory");
	while (len && !r) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;
		r = ed_read(im, off, buf, n);
		if (r < 0) {
			ed_err_code(im, "read", r);
			break;
		}
		if (fwrite(buf, 1, n, stdout) != n) {
			r = ed_err(im->path, "read: cannot write to stdout");
			break;
		}
		off += n;
		len -= n;
	}
	free(buf);
	if (!r && fflush(stdout))
		r = ed_err(im->path, "read: cannot write to stdout");
	return r ? 1 : 0;
}

int ed_cmd_read(const char *image, int argc, char **argv)
{
	struct ed_image im;
	const char *snap = NULL, *pos[2];
	uint64_t off, len, size, end;
	int i, np = 0, r;
	if (ed_wants_help(argc, argv)) {
		fputs(read_usage, stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		int k = edr_snapshot_opt(argc, argv, &i, &snap);
		if (k < 0)
			return ed_err(image, "read: --snapshot needs a value");
		if (k == 0 && np < 2)
			pos[np++] = argv[i];
		else if (k == 0)
			return ed_err(image, "read: unexpected argument '%s'", argv[i]);
	}
	if (np != 2)
		return ed_err(image, "read: need OFFSET and LENGTH (try --help)");
	if (ed_parse_size(pos[0], &off) || ed_parse_size(pos[1], &len))
		return ed_err(image, "read: bad offset or length");
	if (edr_open(&im, image, snap))
		return 1;
	size = ed_disk_size(&im);
	if (off + len < off || (end = off + len) > size) {
		ed_close(&im);
		return ed_err(image, "read: range %" PRIu64 "+%" PRIu64
			      " is past the end of the disk (%" PRIu64 " bytes)",
			      off, len, size);
	}
	r = copy_out(&im, off, len);
	if (ed_close(&im))
		r = 1;
	return r;
}
