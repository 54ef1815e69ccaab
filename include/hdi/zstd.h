/* hdi/zstd.h: a freestanding Zstandard (RFC 8878) decoder, as qcow2
 * compressed clusters need it. No allocation; the caller passes scratch.
 *
 * Concurrency: all state is in the caller's scratch; calls with different
 * scratch run at once, calls sharing scratch must not overlap. */
#ifndef HDI_ZSTD_H
#define HDI_ZSTD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__) && defined(__ELF__)
/* Only what these headers declare is the library's interface: core is
 * compiled with -fvisibility=hidden, so everything else stays internal. */
#pragma GCC visibility push(default)
#endif

/* Scratch hdi_zstd_decompress needs (Huffman and FSE tables); any
 * alignment is fine. There is no window buffer: matches are copied from
 * dst itself, and literals are decoded into dst's unused tail. */
#define HDI_ZSTD_WORK_SIZE 15360u

/* Decode the zstd frames in src, one after another, into dst. Skippable
 * frames are skipped; a frame that needs a dictionary is HDI_EUNSUPP; a
 * content checksum is verified. It stops as soon as dst is full, the
 * semantics of QEMU's qcow2_zstd_decompress: the bytes after that (more
 * frames, padding of a compressed cluster) are not looked at.
 *
 * Returns HDI_OK when dst is full (*dst_written == dst_len) or when src
 * ends exactly at the end of a frame (*dst_written may be < dst_len);
 * HDI_ECORRUPT for a malformed frame, one that runs out of input, or one
 * whose output would not fit in dst; HDI_ENOMEM when work_len <
 * HDI_ZSTD_WORK_SIZE. *dst_written and *src_used (bytes of src consumed)
 * are set in every case; either pointer may be NULL. Never reads or writes
 * outside the given buffers; bytes of dst past *dst_written are scratch. */
int hdi_zstd_decompress(void *dst, size_t dst_len, size_t *dst_written,
			const void *src, size_t src_len, size_t *src_used,
			void *work, size_t work_len);

#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
