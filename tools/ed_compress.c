/* tools/ed_compress.c: zlib and zstd compression of qcow2 clusters, made
 * the way QEMU makes them (block/qcow2-threads.c), so our compressed
 * clusters hold the same bytes as qemu-img's: raw deflate, default level,
 * a 4 KiB window and memLevel 9; zstd's streaming API at its default level,
 * ending the frame in one go. Contexts are reset, not rebuilt, per cluster
 * (same output, no allocation per cluster). The Windows build has no
 * libzstd: zstd compression is refused there. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "hdi/errors.h"
#include "hdi/qcow2.h"
#include "ed_compress.h"

#if !defined(_WIN32) || defined(ED_HAVE_ZSTD)
#define ED_ZSTD 1
#include <zstd.h>
#endif

struct ed_zctx {
	z_stream zs;
	int zs_ready;
#ifdef ED_ZSTD
	ZSTD_CCtx *zc;
#endif
};

struct ed_zctx *ed_zctx_new(void)
{
	return calloc(1, sizeof(struct ed_zctx));
}

void ed_zctx_free(struct ed_zctx *z)
{
	if (!z)
		return;
	if (z->zs_ready)
		deflateEnd(&z->zs);
#ifdef ED_ZSTD
	ZSTD_freeCCtx(z->zc);
#endif
	free(z);
}

int ed_compress_supported(uint32_t type)
{
	if (type == HDI_QCOW2_COMPRESSION_ZLIB)
		return 1;
#ifdef ED_ZSTD
	return type == HDI_QCOW2_COMPRESSION_ZSTD;
#else
	return 0;
#endif
}

static int deflate_cluster(struct ed_zctx *z, void *dst, size_t cap,
			   size_t *len, const void *src, size_t n)
{
	int r;
	if (!z->zs_ready) {
		if (deflateInit2(&z->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			return HDI_ENOMEM;
		z->zs_ready = 1;
	} else if (deflateReset(&z->zs) != Z_OK) {
		return HDI_EIO;
	}
	z->zs.next_in = (Bytef *)(uintptr_t)src;
	z->zs.avail_in = (uInt)n;
	z->zs.next_out = dst;
	z->zs.avail_out = (uInt)cap;
	r = deflate(&z->zs, Z_FINISH);
	if (r == Z_STREAM_END) {
		*len = cap - z->zs.avail_out;
		return HDI_OK;
	}
	return r == Z_OK || r == Z_BUF_ERROR ? HDI_ENOSPC : HDI_EIO;
}

#ifdef ED_ZSTD
static int zstd_cluster(struct ed_zctx *z, void *dst, size_t cap,
			size_t *len, const void *src, size_t n)
{
	ZSTD_outBuffer out = { dst, cap, 0 };
	ZSTD_inBuffer in = { src, n, 0 };
	size_t left;
	if (!z->zc && !(z->zc = ZSTD_createCCtx()))
		return HDI_ENOMEM;
	ZSTD_CCtx_reset(z->zc, ZSTD_reset_session_only);
	/* as QEMU: end the frame, calling again while zstd has more to say
	 * and room remains */
	do {
		left = ZSTD_compressStream2(z->zc, &out, &in, ZSTD_e_end);
		if (ZSTD_isError(left))
			return HDI_EIO;
		if (left > out.size - out.pos)
			return HDI_ENOSPC;
	} while (left);
	*len = out.pos;
	return HDI_OK;
}
#endif

int ed_compress(void *ctx, uint32_t type, void *dst, size_t dst_cap,
		size_t *dst_len, const void *src, size_t src_len)
{
	struct ed_zctx *z = ctx;
	if (!z)
		return HDI_ENOMEM;
	if (type == HDI_QCOW2_COMPRESSION_ZLIB)
		return deflate_cluster(z, dst, dst_cap, dst_len, src, src_len);
#ifdef ED_ZSTD
	if (type == HDI_QCOW2_COMPRESSION_ZSTD)
		return zstd_cluster(z, dst, dst_cap, dst_len, src, src_len);
#endif
	return HDI_EUNSUPP;
}
