/*
 * Launch to first DNS answer: each round launches the KVM floor (to its
 * exit) and the DNS appliance on a tap, and times, from the launch, the
 * guest's first console output, its "serving UDP" line and the first
 * answer to a query sent every 50 us from the start.  Rounds interleave
 * so that drift in the machine's speed affects both alike; prints medians
 * and 10th/90th percentiles.  Run inside a namespace whose tap carries
 * SRC (bench/boot/first-answer does).
 *   first_answer ROUNDS FLOOR MONITOR IMAGE TAP SRC DST
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

extern char **environ;

enum { FLOOR, OUTPUT, SERVING, ANSWER, NSTEPS };
static const char *step_names[NSTEPS] = {"kvm-floor", "first-output", "serving",
					 "first-answer"};

/* A query for www.example.test A, id 0x1234, RD. */
static const unsigned char query[] = {
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    3,    'w',  'w',  'w',  7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',
    4,    't',  'e',  's',  't',  0,    0x00, 0x01, 0x00, 0x01};

static double floor_once(char *path)
{
	char *argv[] = {path, NULL};
	pid_t pid;
	int status;
	double t0 = now_us();
	if (posix_spawn(&pid, path, NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &status, 0) != pid || status != 0) {
		fprintf(stderr, "first_answer: %s failed\n", path);
		exit(1);
	}
	return now_us() - t0;
}

/* One launch of the appliance: t[OUTPUT..ANSWER] in us. */
static void dns_once(char **argv, int sock, const struct sockaddr_in *dst,
		     double *t)
{
	int out[2];
	pid_t pid;
	posix_spawn_file_actions_t fa;
	if (pipe(out) < 0)
		exit(1);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	double t0 = now_us();
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		perror(argv[0]);
		exit(1);
	}
	close(out[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	char text[4096];
	size_t len = 0;
	t[OUTPUT] = t[SERVING] = t[ANSWER] = 0;
	while (!t[ANSWER]) {
		sendto(sock, query, sizeof query, 0,
		       (const struct sockaddr *)dst, sizeof *dst);
		struct pollfd p[2] = {{out[0], POLLIN, 0}, {sock, POLLIN, 0}};
		struct timespec wait = {0, 50000};
		ppoll(p, 2, &wait, NULL);
		double now = now_us() - t0;
		ssize_t n;
		while (len < sizeof text - 1 &&
		       (n = read(out[0], text + len, sizeof text - 1 - len)) >
			   0) {
			len += (size_t)n;
			text[len] = 0;
			if (!t[OUTPUT])
				t[OUTPUT] = now;
			if (!t[SERVING] && strstr(text, "serving UDP"))
				t[SERVING] = now;
		}
		char buf[600];
		if (recv(sock, buf, sizeof buf, MSG_DONTWAIT) > 0)
			t[ANSWER] = now;
		if (now > 5e6) {
			fprintf(stderr, "first_answer: no answer in 5 s\n");
			exit(1);
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(out[0]);
	posix_spawn_file_actions_destroy(&fa);
	/* Drain late answers to earlier queries. */
	char buf[600];
	while (recv(sock, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
}

int main(int argc, char **argv)
{
	int rounds = argc == 8 ? atoi(argv[1]) : 0;
	if (rounds < 1) {
		fprintf(stderr, "usage: first_answer ROUNDS FLOOR MONITOR "
				"IMAGE TAP SRC DST\n");
		return 2;
	}
	char net[64], ip[64];
	snprintf(net, sizeof net, "service=%s", argv[5]);
	snprintf(ip, sizeof ip, "--ipv4=%s/24", argv[7]);
	char *dns[] = {argv[3], "--net", net, argv[4], ip, NULL};
	struct sockaddr_in src = {.sin_family = AF_INET},
			   dst = {.sin_family = AF_INET, .sin_port = htons(53)};
	int sock = socket(AF_INET, SOCK_DGRAM, 0);
	if (inet_pton(AF_INET, argv[6], &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[7], &dst.sin_addr) != 1 ||
	    bind(sock, (struct sockaddr *)&src, sizeof src) < 0) {
		perror("first_answer: socket");
		return 1;
	}
	double *t[NSTEPS];
	for (int s = 0; s < NSTEPS; s++)
		t[s] = calloc(rounds, sizeof **t);
	for (int r = 0; r < rounds; r++) {
		double one[NSTEPS];
		t[FLOOR][r] = floor_once(argv[2]);
		dns_once(dns, sock, &dst, one);
		for (int s = OUTPUT; s < NSTEPS; s++)
			t[s][r] = one[s];
	}
	printf("%-14s %10s %10s %10s\n", "", "median_us", "p10_us", "p90_us");
	double med[NSTEPS];
	for (int s = 0; s < NSTEPS; s++) {
		qsort(t[s], rounds, sizeof **t, cmp_double);
		med[s] = t[s][rounds / 2];
		printf("%-14s %10.0f %10.0f %10.0f\n", step_names[s], med[s],
		       t[s][rounds / 10], t[s][rounds * 9 / 10]);
	}
	printf("ratio first-answer/kvm-floor %.2f\n", med[ANSWER] / med[FLOOR]);
	return 0;
}
