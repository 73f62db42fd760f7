/*
 * ingot-kvm: boots an ingot image on KVM and serves it until it exits.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ingot-kvm [--mem SIZE] [--watchdog SECONDS] "
		"[--net NAME=TAP[,mac=MAC]]...\n"
		"                 [--] IMAGE [ARGS...]\n"
		"Boots the ingot kvm image IMAGE on /dev/kvm; ARGS are the "
		"guest's.\n"
		"  --mem SIZE          guest memory, with a K, M or G suffix "
		"(default 32M,\n"
		"                      4M to 4G); only pages the guest "
		"touches cost memory\n"
		"  --watchdog SECONDS  stop the guest if it makes no hypercall "
		"for this long\n"
		"  --net NAME=TAP      attach the image's network device NAME "
		"to tap device TAP;\n"
		"                      mac=MAC overrides its address (default: "
		"stable per TAP)\n"
		"  --help              print this and exit\n"
		"SIGTERM or SIGINT asks the guest to stop (twice: stop it at "
		"once); SIGUSR1\n"
		"asks it to print its counters.\n"
		"Exit status: the guest's own (0-249); 251 stopped by the "
		"watchdog; 252 the\n"
		"guest could not be started; 254 the guest broke the ABI and "
		"was stopped;\n"
		"255 the guest aborted or took a CPU exception; 2 bad usage.\n");
}

/* Messages go out in one write so concurrent threads do not interleave. */
static void vmsg(const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof buf, MON_PREFIX);
	n += vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	if (write(2, buf, n) < 0)
		return;
}

void mon_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void mon_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	_exit(INGOT_EXIT_SETUP);
}

void mon_stop(struct guest *g, const char *fmt, ...)
{
	va_list ap;
	(void)g;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	mon_msg("guest stopped");
	_exit(INGOT_EXIT_STOPPED);
}

void mon_exit(int status)
{
	net_report();
	_exit(status);
}

uint64_t mon_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static _Noreturn void bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, MON_PREFIX);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(2);
}

/* "64M" -> bytes; K, M and G are powers of two. */
static uint64_t parse_size(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;

	if (errno || end == s || *s == '-')
		bad_usage("--mem: '%s' is not a size", s);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end)
		bad_usage("--mem: '%s' is not a size (use K, M or G)", s);
	if (shift && end[1])
		bad_usage("--mem: '%s' is not a size", s);
	if (v > (INGOT_KVM_MEM_MAX >> shift) ||
	    (v << shift) < INGOT_KVM_MEM_MIN)
		bad_usage("--mem: '%s' is outside 4M..4G", s);
	if ((v << shift) % 4096)
		bad_usage("--mem: '%s' is not a multiple of 4 KiB", s);
	return v << shift;
}

static unsigned parse_seconds(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v == 0 || v > 86400)
		bad_usage("--watchdog: '%s' is not a number of seconds "
			  "(1 to 86400)",
			  s);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"mem", required_argument, NULL, 'm'},
	    {"watchdog", required_argument, NULL, 'w'},
	    {"net", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	static struct guest g;
	uint64_t mem = MON_MEM_DEFAULT;
	unsigned watchdog = 0;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			mem = parse_size(optarg);
			break;
		case 'w':
			watchdog = parse_seconds(optarg);
			break;
		case 'n': {
			const char *err = net_parse_option(optarg);
			if (err)
				bad_usage("%s", err);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			bad_usage("unknown or incomplete option '%s'",
				  argv[optind - 1]);
		}
	}
	if (optind >= argc)
		bad_usage("%s", "no image given");

	image_load(&g.img, argv[optind]);
	net_setup(&g);
	requests_init();
	vm_create(&g, mem, argc - optind, argv + optind);
	if (watchdog)
		watchdog_start(&g, watchdog);
	seccomp_confine(&g);
	run_guest(&g);
}
