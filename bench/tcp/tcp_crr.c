/*
 * bench/tcp's connection-rate client: THREADS loops, each connecting,
 * sending SIZE bytes, reading them back and closing, for SECONDS; prints
 * the connections per second and the median and p99 time of one whole
 * connection.
 *
 *   tcp_crr ADDR PORT SIZE SECONDS THREADS
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SAMPLES 200000

static struct sockaddr_in addr = {.sin_family = AF_INET};
static size_t size;
static double seconds;

struct worker {
	pthread_t t;
	unsigned long done, failed, nsamples;
	double *samples; /* microseconds per connection */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int one_connection(char *buf)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ok = -1;
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
	    write(fd, buf, size) == (ssize_t)size) {
		size_t got = 0;
		ssize_t r;
		while (got < size && (r = read(fd, buf, size - got)) > 0)
			got += r;
		ok = got == size ? 0 : -1;
	}
	close(fd);
	return ok;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	char *buf = calloc(1, size ? size : 1);
	double end = now() + seconds;
	for (double t = now(); t < end;) {
		double t0 = t;
		if (one_connection(buf) == 0)
			w->done++;
		else
			w->failed++;
		t = now();
		if (w->nsamples < SAMPLES)
			w->samples[w->nsamples++] = (t - t0) * 1e6;
	}
	free(buf);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 6 || inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr,
			"usage: tcp_crr ADDR PORT SIZE SECONDS THREADS\n");
		return 2;
	}
	addr.sin_port = htons(atoi(argv[2]));
	size = strtoul(argv[3], NULL, 10);
	seconds = atof(argv[4]);
	int n = atoi(argv[5]);
	struct worker *w = calloc(n, sizeof *w);
	for (int i = 0; i < n; i++) {
		w[i].samples = malloc(SAMPLES * sizeof(double));
		pthread_create(&w[i].t, NULL, run, &w[i]);
	}
	unsigned long done = 0, failed = 0, ns = 0;
	double *all = malloc((size_t)n * SAMPLES * sizeof(double));
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		done += w[i].done;
		failed += w[i].failed;
		memcpy(all + ns, w[i].samples, w[i].nsamples * sizeof(double));
		ns += w[i].nsamples;
	}
	qsort(all, ns, sizeof *all, cmp);
	printf(
	    "rate=%.0f connections=%lu failed=%lu median_us=%.1f p99_us=%.1f\n",
	    done / seconds, done, failed, ns ? all[ns / 2] : 0.0,
	    ns ? all[ns * 99 / 100] : 0.0);
	return 0;
}
