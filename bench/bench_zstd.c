/* bench/bench_zstd.c: the zstd decoder (core/zstd*.c) against libzstd on
 * the same clusters, in one process: FILE is cut into clusters, each one
 * compressed as QEMU's qcow2_zstd_compress does (libzstd's default level,
 * one frame per cluster); both decoders then decode them all, the output
 * is compared, and the best of 3 runs is printed as MB/s and the ratio.
 * Usage: bench_zstd FILE [CLUSTER_SIZE...]   (default 65536 2097152) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>
#include "hdi/zstd.h"
#include "hdi/errors.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int run(const unsigned char *in, size_t n, size_t cl)
{
	static unsigned char work[HDI_ZSTD_WORK_SIZE];
	size_t nc = n / cl, i, bound = ZSTD_compressBound(cl), csum = 0;
	unsigned char *c = malloc(nc * bound), *out = malloc(cl);
	size_t *cn = malloc(nc * sizeof *cn);
	ZSTD_DCtx *d = ZSTD_createDCtx();
	double best_ours = 1e9, best_lib = 1e9;
	int rep;
	if (!nc || !c || !out || !cn || !d)
		return 1;
	for (i = 0; i < nc; i++) {
		cn[i] = ZSTD_compress(c + i * bound, bound, in + i * cl, cl, ZSTD_CLEVEL_DEFAULT);
		if (ZSTD_isError(cn[i]))
			return 1;
		csum += cn[i];
	}
	for (rep = 0; rep < 3; rep++) {
		double t0 = now(), t1, t2;
		for (i = 0; i < nc; i++) {
			size_t w;
			if (hdi_zstd_decompress(out, cl, &w, c + i * bound, cn[i], NULL,
						work, sizeof work) != HDI_OK || w != cl ||
			    memcmp(out, in + i * cl, cl)) {
				fprintf(stderr, "bench_zstd: cluster %zu decodes wrong\n", i);
				return 1;
			}
		}
		t1 = now();
		for (i = 0; i < nc; i++) {
			if (ZSTD_decompressDCtx(d, out, cl, c + i * bound, cn[i]) != cl ||
			    memcmp(out, in + i * cl, cl))
				return 1;
		}
		t2 = now();
		if (t1 - t0 < best_ours)
			best_ours = t1 - t0;
		if (t2 - t1 < best_lib)
			best_lib = t2 - t1;
	}
	printf("cluster %7zu: %zu clusters, %.1f%% of the size: ours %.0f MB/s, "
	       "libzstd %.0f MB/s, time ratio ours/libzstd %.2f\n", cl, nc,
	       100.0 * csum / (nc * cl), nc * cl / best_ours / 1e6,
	       nc * cl / best_lib / 1e6, best_ours / best_lib);
	ZSTD_freeDCtx(d);
	free(c);
	free(out);
	free(cn);
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t def[] = { 65536, 2097152 };
	size_t cap = 256u << 20, n;
	unsigned char *in = malloc(cap);
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
	int i, r = 0;
	if (!f || !in) {
		fprintf(stderr, "usage: bench_zstd FILE [CLUSTER_SIZE...]\n");
		return 2;
	}
	n = fread(in, 1, cap, f);
	fclose(f);
	if (argc > 2) {
		for (i = 2; i < argc && !r; i++)
			r = run(in, n, (size_t)strtoul(argv[i], NULL, 0));
	} else {
		for (i = 0; i < 2 && !r; i++)
			r = run(in, n, def[i]);
	}
	return r;
}
