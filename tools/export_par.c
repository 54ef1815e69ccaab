/* tools/export_par.c: exports of compressed images read the virtual disk
 * in worker threads, each with its own open image (reads of one image need
 * no shared state), so decompression runs on every CPU, as qemu-img's
 * thread pool does. The thread that reads a chunk also writes it (at its
 * offset: the order of writes does not matter), so the writes' kernel
 * time is spread over the CPUs too. This thread queues the chunks, works
 * on queued ones while it waits, and reports progress in guest order; so
 * jobs - 1 workers keep jobs CPUs busy. A fixed ring of chunk buffers
 * bounds the memory. */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "ed_read.h"
#include "export_par.h"

#define XCHUNK (1u << 20)
#define SLOTS_PER_WORKER 4u

struct xslot {
	uint64_t off, host;    /* host: plain data there, read by the writer */
	size_t n;
	int done, err;
	unsigned char *buf;
};

struct xring {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct xslot *s;
	unsigned n;
	uint64_t filled, taken;
	int stop;
	struct ed_xp *x;
};

/* One chunk, read through im (NULL: its open failed) and put; called and
 * returns with the lock held. */
static void work(struct xring *g, struct xslot *s, struct ed_image *im)
{
	int r = HDI_EIO;
	pthread_mutex_unlock(&g->mu);
	if (im) {
		r = s->host == UINT64_MAX ? ed_read(im, s->off, s->buf, s->n) : 0;
		if (r == 0)
			r = g->x->put(g->x->ctx, im, s->off,
				      s->host == UINT64_MAX ? s->buf : NULL,
				      s->host, s->n);
	}
	pthread_mutex_lock(&g->mu);
	s->err = r;
	s->done = 1;
}

static void *worker(void *arg)
{
	struct xring *g = arg;
	struct ed_image im;
	int opened = edr_open(&im, g->x->im->path, g->x->snap) == 0;
	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (!g->stop && g->taken == g->filled)
			pthread_cond_wait(&g->work, &g->mu);
		if (g->taken == g->filled)
			break;
		work(g, &g->s[g->taken++ % g->n], opened ? &im : NULL);
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->mu);
	if (opened)
		ed_close(&im);
	return NULL;
}

/* Queues the next chunk that is not zero; 0 at the end. */
static int next(struct xring *g, uint64_t *off)
{
	struct ed_xp *x = g->x;
	while (*off < x->size) {
		uint64_t len, host;
		struct xslot *s;
		if (x->extent(x->im, *off, &len, &host)) {
			*off += len < x->size - *off ? len : x->size - *off;
			x->progress(x->ctx, *off);
			continue;
		}
		s = &g->s[g->filled % g->n];
		s->off = *off;
		s->n = (size_t)(x->size - *off < XCHUNK ? x->size - *off : XCHUNK);
		if (len < s->n)
			s->n = (size_t)len;
		s->host = host;
		s->done = 0;
		*off += s->n;
		pthread_mutex_lock(&g->mu);
		g->filled++;
		pthread_cond_signal(&g->work);
		pthread_mutex_unlock(&g->mu);
		return 1;
	}
	return 0;
}

static int run(struct xring *g, uint64_t off)
{
	struct ed_xp *x = g->x;
	uint64_t written = 0;
	int more = 1;
	for (;;) {
		struct xslot *s;
		while (more && g->filled - written < g->n)
			more = next(g, &off);
		if (written == g->filled)
			return 0;
		s = &g->s[written % g->n];
		pthread_mutex_lock(&g->mu);
		while (!s->done) {
			if (g->taken < g->filled) {
				work(g, &g->s[g->taken++ % g->n], x->im);
				continue;
			}
			pthread_cond_wait(&g->done, &g->mu);
		}
		pthread_mutex_unlock(&g->mu);
		if (s->err < 0) {
			ed_err_code(x->im, "convert: read", s->err);
			return 1;
		}
		if (s->err)
			return 1;
		written++;
		x->progress(x->ctx, s->off + s->n);
	}
}

int ed_export_par(struct ed_xp *x, uint64_t from)
{
	struct xring g;
	pthread_t *th;
	unsigned i, started = 0;
	int r = 1;
	memset(&g, 0, sizeof g);
	g.x = x;
	g.n = x->jobs * SLOTS_PER_WORKER;
	g.s = calloc(g.n, sizeof *g.s);
	th = calloc(x->jobs, sizeof *th);
	for (i = 0; g.s && i < g.n; i++)
		if (!(g.s[i].buf = malloc(XCHUNK)))
			break;
	if (!g.s || !th || i < g.n) {
		ed_err(x->im->path, "out of memory");
		goto out;
	}
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.work, NULL);
	pthread_cond_init(&g.done, NULL);
	for (; started + 1 < x->jobs; started++)
		if (pthread_create(&th[started], NULL, worker, &g))
			break;
	r = run(&g, from);
	pthread_mutex_lock(&g.mu);
	g.stop = 1;
	g.taken = g.filled;
	pthread_cond_broadcast(&g.work);
	pthread_mutex_unlock(&g.mu);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_cond_destroy(&g.done);
	pthread_cond_destroy(&g.work);
	pthread_mutex_destroy(&g.mu);
out:
	for (i = 0; g.s && i < g.n; i++)
		free(g.s[i].buf);
	free(g.s);
	free(th);
	return r;
}
