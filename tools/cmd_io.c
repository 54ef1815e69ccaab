/* tools/cmd_io.c: `write OFFSET FILE|-`, `write-zeroes OFFSET LENGTH` and
 * `discard OFFSET LENGTH` on a qcow2 or raw image. */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ed.h"
#include "ed_compress.h"

#define CHUNK (4u << 20)

static int usage_or_help(const char *image, int argc, char **argv,
			 const char *text)
{
	if (!image || ed_wants_help(argc, argv)) {
		fputs(text, stdout);
		return 1;
	}
	return 0;
}

static int parse2(const char *image, int argc, char **argv, const char *cmd,
		  uint64_t *a, uint64_t *b, const char **bstr)
{
	if (argc != 3)
		return ed_err(image, "%s: expected OFFSET and %s", cmd,
			      bstr ? "FILE|-" : "LENGTH");
	if (ed_parse_size(argv[1], a))
		return ed_err(image, "%s: invalid offset '%s'", cmd, argv[1]);
	if (bstr)
		*bstr = argv[2];
	else if (ed_parse_size(argv[2], b))
		return ed_err(image, "%s: invalid length '%s'", cmd, argv[2]);
	return 0;
}

static int in_disk(struct ed_image *im, const char *cmd, uint64_t off,
		   uint64_t len)
{
	uint64_t size = ed_disk_size(im);
	if (off > size || len > size - off) {
		ed_err(im->path, "%s: range %llu+%llu is beyond the end of the disk (%llu bytes)",
		       cmd, (unsigned long long)off, (unsigned long long)len,
		       (unsigned long long)size);
		return 1;
	}
	return 0;
}

static const char write_help[] =
	"usage: edqcow2 IMAGE write [--compressed|-c] OFFSET FILE|-\n"
	"Writes the bytes of FILE (or standard input) into the virtual disk at\n"
	"OFFSET. The data must fit inside the disk.\n"
	"  --compressed, -c  store whole clusters compressed (qemu-io write -c;\n"
	"                    the image's compression type, zlib or zstd):\n"
	"                    OFFSET and the length are whole clusters (or end\n"
	"                    at the end of the disk)\n";

/* Takes --compressed / -c out of argv (it may stand anywhere). */
static int take_flag(int *argc, char **argv, const char *a, const char *b)
{
	int i, j, found = 0;
	for (i = j = 0; i < *argc; i++) {
		if (i && (!strcmp(argv[i], a) || !strcmp(argv[i], b)))
			found = 1;
		else
			argv[j++] = argv[i];
	}
	*argc = j;
	return found;
}

/* n bytes at off, one whole cluster at a time. */
static int write_compressed(struct ed_image *im, uint64_t off, const char *buf,
			    size_t n)
{
	struct hdi_qcow2_info_result info;
	uint64_t cs;
	int r = hdi_qcow2_info(&im->q, &info);
	if (r)
		return r;
	cs = 1ull << info.cluster_bits;
	if (!ed_compress_supported(info.compression_type)) {
		ed_err(im->path, "write: zstd compression is not available in this build (no libzstd for Windows)");
		return 1;
	}
	if ((off & (cs - 1u)) || ((n & (cs - 1u)) && off + n != ed_disk_size(im))) {
		ed_err(im->path, "write: compressed writes take whole clusters (%llu bytes, aligned), or end at the end of the disk",
		       (unsigned long long)cs);
		return 1;
	}
	while (n && !r) {
		size_t k = (size_t)(n < cs ? n : cs);
		r = hdi_qcow2_write_compressed(&im->q, off, buf, k);
		off += k;
		buf += k;
		n -= k;
	}
	return r;
}

int ed_cmd_write(const char *image, int argc, char **argv)
{
	struct ed_image im;
	const char *name;
	uint64_t off, done = 0;
	FILE *in;
	char *buf;
	int r = 0, comp;
	if (usage_or_help(image, argc, argv, write_help))
		return 0;
	comp = take_flag(&argc, argv, "--compressed", "-c");
	if (parse2(image, argc, argv, "write", &off, NULL, &name))
		return 1;
	in = strcmp(name, "-") ? fopen(name, "rb") : stdin;
	if (!in)
		return ed_err(image, "write: cannot open '%s': %s", name, strerror(errno));
	buf = malloc(CHUNK);
	if (!buf || ed_open(&im, image, ED_OPEN_RDWR)) {
		free(buf);
		if (in != stdin)
			fclose(in);
		return buf ? 1 : ed_err(image, "out of memory");
	}
	/* streaming the image into itself reads what it has just written
	 * (and a qcow2 file grows ahead of the reader) */
	if (in != stdin && ed_chain_find(&im, name) == 0) {
		r = ed_err(image, "write: the input file '%s' is the image itself", name);
		goto done;
	}
	if (comp && !im.is_qcow2) {
		r = ed_err(image, "write: --compressed needs a qcow2 image");
		goto done;
	}
	for (;;) {
		size_t n = fread(buf, 1, CHUNK, in);
		if (n == 0)
			break;
		if (in_disk(&im, "write", off + done, n)) {
			r = 1;
			break;
		}
		if (comp)
			r = write_compressed(&im, off + done, buf, n);
		else if (im.is_qcow2)
			r = hdi_qcow2_write(&im.q, off + done, buf, n);
		else
			r = hdi_bdev_pwrite(&im.file.bdev, off + done, buf, n, NULL);
		if (r) {
			if (r != 1)
				ed_err_code(&im, "write", r);
			r = 1;
			break;
		}
		done += n;
	}
done:
	if (!r && ferror(in))
		r = ed_err(image, "write: reading '%s': %s", name, strerror(errno));
	if (in != stdin)
		fclose(in);
	free(buf);
	if (ed_close(&im))
		r = 1;
	return r;
}

/* Raw images: zeros are written (a raw file has no way to say "zero"). */
static int raw_zero(struct ed_image *im, uint64_t off, uint64_t len)
{
	char *z = calloc(1, CHUNK);
	int r = z ? HDI_OK : HDI_ENOMEM;
	while (!r && len) {
		size_t n = (size_t)(len < CHUNK ? len : CHUNK);
		r = hdi_bdev_pwrite(&im->file.bdev, off, z, n, NULL);
		off += n;
		len -= n;
	}
	free(z);
	return r;
}

static int zero_cmd(const char *image, int argc, char **argv, int discard)
{
	const char *cmd = discard ? "discard" : "write-zeroes";
	struct ed_image im;
	uint64_t off, len;
	int r;
	if (parse2(image, argc, argv, cmd, &off, &len, NULL))
		return 1;
	if (ed_open(&im, image, ED_OPEN_RDWR))
		return 1;
	if (in_disk(&im, cmd, off, len)) {
		ed_close(&im);
		return 1;
	}
	if (!im.is_qcow2)
		r = raw_zero(&im, off, len);
	else if (discard)
		r = hdi_qcow2_discard(&im.q, off, len);
	else
		r = hdi_qcow2_write_zeroes(&im.q, off, len);
	if (r) {
		ed_err_code(&im, cmd, r);
		ed_close(&im);
		return 1;
	}
	return ed_close(&im) ? 1 : 0;
}

static const char zeroes_help[] =
	"usage: edqcow2 IMAGE write-zeroes OFFSET LENGTH\n"
	"Makes the range read as zeros: on compat 1.1 whole clusters get the\n"
	"zero flag (and their space is freed); elsewhere zeros are written.\n";

int ed_cmd_write_zeroes(const char *image, int argc, char **argv)
{
	if (usage_or_help(image, argc, argv, zeroes_help))
		return 0;
	return zero_cmd(image, argc, argv, 0);
}

static const char discard_help[] =
	"usage: edqcow2 IMAGE discard OFFSET LENGTH\n"
	"Drops the range: it reads as zeros afterwards and clusters nothing\n"
	"else references are freed.\n";

int ed_cmd_discard(const char *image, int argc, char **argv)
{
	if (usage_or_help(image, argc, argv, discard_help))
		return 0;
	return zero_cmd(image, argc, argv, 1);
}
