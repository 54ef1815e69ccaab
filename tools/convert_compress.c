/* tools/convert_compress.c: the copy loop of `convert -c`: clusters are
 * compressed by N worker threads and written by this thread in guest order
 * through the library (hdi_qcow2_write_precompressed), so the output holds
 * the same bytes for any N. A fixed ring of slots bounds the memory: at
 * most that many clusters are in flight. Clusters that read as zeros are
 * not written (as qemu-img). */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ed_compress.h"
#include "convert_compress.h"
#include "ed.h"

/* Slots per worker: enough that the writer rarely waits for the one
 * cluster it needs next while the others are being compressed. */
#define SLOTS_PER_WORKER 4u
#define RING_BYTES_MAX (256u << 20)

struct slot {
	uint64_t off;          /* virtual offset of the cluster */
	size_t len;            /* its bytes (the disk's last one may be short) */
	size_t clen;           /* compressed bytes; 0: store as is */
	int done, err;
	unsigned char *in, *out;
};

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct slot *slots;
	unsigned n;
	uint64_t filled, taken, written;   /* sequence numbers */
	int stop;
	uint32_t type;
	size_t cs;
};

static void *worker(void *arg)
{
	struct ring *g = arg;
	struct ed_zctx *z = ed_zctx_new();
	pthread_mutex_lock(&g->mu);
	for (;;) {
		struct slot *s;
		size_t clen = 0;
		int r;
		while (!g->stop && g->taken == g->filled)
			pthread_cond_wait(&g->work, &g->mu);
		if (g->taken == g->filled)
			break;
		s = &g->slots[g->taken++ % g->n];
		pthread_mutex_unlock(&g->mu);
		r = z ? ed_compress(z, g->type, s->out, g->cs - 1u, &clen, s->in, g->cs)
		      : HDI_ENOMEM;
		pthread_mutex_lock(&g->mu);
		s->clen = r == HDI_OK ? clen : 0;
		s->err = r == HDI_ENOSPC ? 0 : r;
		s->done = 1;
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->mu);
	ed_zctx_free(z);
	return NULL;
}

unsigned ed_cc_default_jobs(void)
{
#ifdef _SC_NPROCESSORS_ONLN
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n > 0)
		return n > 256 ? 256u : (unsigned)n;
#endif
	return 1;
}

/* Reads the next non-zero cluster from *off into s; 0 at the end. */
static int next_cluster(struct ed_cc *c, struct ring *g, uint64_t *off,
			struct slot *s)
{
	while (*off < c->size) {
		uint64_t z = c->zero_run(c->ctx, *off), left = c->size - *off;
		size_t n = (size_t)(left < g->cs ? left : g->cs);
		int r;
		/* skip whole clusters of a known zero run */
		z = z < left ? z : left;
		if (z >= n) {
			*off += z - (z < left ? z % g->cs : 0);
			c->progress(c->ctx, *off);
			continue;
		}
		r = c->read(c->ctx, *off, s->in, n);
		if (r < 0)
			return r;
		if (!ed_all_zero(s->in, n)) {
			memset(s->in + n, 0, g->cs - n);
			s->off = *off;
			/* the disk's last cluster: up to its end (the image size
			 * is whole sectors, the source's may not be) */
			s->len = n < g->cs ? (size_t)(c->dst_size - *off) : n;
			s->done = 0;
			*off += n;
			return 1;
		}
		*off += n;
		c->progress(c->ctx, *off);
	}
	return 0;
}

static int run(struct ed_cc *c, struct ring *g)
{
	uint64_t off = 0;
	int more = 1, r = 0;
	for (;;) {
		struct slot *s;
		while (more && !r && g->filled - g->written < g->n) {
			s = &g->slots[g->filled % g->n];
			r = next_cluster(c, g, &off, s);
			if (r < 0) {
				c->fail(c->ctx, 0, r);
				break;
			}
			more = r;
			r = 0;
			pthread_mutex_lock(&g->mu);
			if (more) {
				g->filled++;
				pthread_cond_signal(&g->work);
			}
			pthread_mutex_unlock(&g->mu);
		}
		if (r || g->written == g->filled)
			return r ? 1 : 0;
		s = &g->slots[g->written % g->n];
		pthread_mutex_lock(&g->mu);
		while (!s->done)
			pthread_cond_wait(&g->done, &g->mu);
		pthread_mutex_unlock(&g->mu);
		if (s->err) {
			c->fail(c->ctx, 2, s->err);
			return 1;
		}
		r = hdi_qcow2_write_precompressed(c->dst, s->off, s->in, s->len,
						  s->out, s->clen);
		if (r < 0) {
			c->fail(c->ctx, 1, r);
			return 1;
		}
		g->written++;
		c->progress(c->ctx, s->off + s->len);
	}
}

int ed_cc_copy(struct ed_cc *c)
{
	struct ring g;
	pthread_t *th;
	unsigned i, started = 0, jobs = c->jobs ? c->jobs : ed_cc_default_jobs();
	size_t ring_max;
	int r = 1;
	memset(&g, 0, sizeof g);
	g.cs = c->cluster_size;
	g.type = c->type;
	g.n = jobs * SLOTS_PER_WORKER;
	ring_max = RING_BYTES_MAX / (2u * g.cs);
	if (g.n > ring_max)
		g.n = ring_max > jobs + 1u ? (unsigned)ring_max : jobs + 1u;
	g.slots = calloc(g.n, sizeof *g.slots);
	th = calloc(jobs, sizeof *th);
	if (!g.slots || !th)
		goto out;
	for (i = 0; i < g.n; i++) {
		g.slots[i].in = malloc(g.cs);
		g.slots[i].out = malloc(g.cs);
		if (!g.slots[i].in || !g.slots[i].out)
			goto out;
	}
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.work, NULL);
	pthread_cond_init(&g.done, NULL);
	for (; started < jobs; started++)
		if (pthread_create(&th[started], NULL, worker, &g))
			break;
	if (started)
		r = run(c, &g);
	else
		c->fail(c->ctx, 2, HDI_ENOMEM);
	pthread_mutex_lock(&g.mu);
	g.stop = 1;
	g.taken = g.filled;   /* workers drop what is left after an error */
	pthread_cond_broadcast(&g.work);
	pthread_mutex_unlock(&g.mu);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_cond_destroy(&g.done);
	pthread_cond_destroy(&g.work);
	pthread_mutex_destroy(&g.mu);
out:
	for (i = 0; g.slots && i < g.n; i++) {
		free(g.slots[i].in);
		free(g.slots[i].out);
	}
	free(g.slots);
	free(th);
	return r;
}
