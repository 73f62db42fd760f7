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

#include "../host/block.h"
#include "../host/exit.h"
#include "../host/msg.h"
#include "../host/net.h"
#include "../host/option.h"
#include "../host/requests.h"
#include "../host/wait.h"
#include "monitor.h"

/* The one guest, for the exit report. */
static struct guest guest;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ingot-kvm [--mem SIZE] [--watchdog SECONDS] "
	    "[--net NAME=BACKEND]...\n"
	    "                 [--block NAME=FILE[,ro]]... [--] IMAGE "
	    "[ARGS...]\n"
	    "Boots the ingot kvm image IMAGE on /dev/kvm; ARGS are the "
	    "guest's.\n"
	    "  --mem SIZE          guest memory, with a K, M or G suffix "
	    "(default 32M,\n"
	    "                      at most 4G); only pages the guest "
	    "touches cost memory\n"
	    "  --watchdog SECONDS  stop the guest if it makes no hypercall "
	    "for this long\n"
	    "  --net NAME=TAP[,mac=MAC][,queue=N][,offload=off]\n"
	    "                      attach the image's network device NAME "
	    "to the existing\n"
	    "                      tap device TAP; MAC overrides its address "
	    "(default:\n"
	    "                      stable per TAP); offload=off offers no "
	    "checksum\n"
	    "                      offload or TSO to the guest; the tap's "
	    "queue toward the\n"
	    "                      guest is raised to N frames (default: "
	    "as it is)\n"
	    "  --net NAME=udp:LPORT:RPORT[,mac=MAC]\n"
	    "                      ... to frames in UDP datagrams on "
	    "127.0.0.1, sent\n"
	    "                      from port LPORT to port RPORT\n"
	    "  --block NAME=FILE[,ro]\n"
	    "                      attach the image's block device NAME to "
	    "FILE (a file or\n"
	    "                      a block device; its size in 512-byte "
	    "sectors), read-only\n"
	    "                      with ,ro\n"
	    "  --no-io-uring       move the tap devices' frames with a "
	    "system call each,\n"
	    "                      and carry out block requests one at a "
	    "time (default:\n"
	    "                      a poll's frames in one io_uring_enter, "
	    "block requests\n"
	    "                      in flight together)\n"
	    "  --help              print this and exit\n"
	    "SIGTERM or SIGINT asks the guest to stop (twice: stop it at "
	    "once); SIGUSR1\n"
	    "asks it to print its counters.\n"
	    "Exit status: the guest's own (0-249); 250 the guest asked for "
	    "another; 251\n"
	    "stopped by the watchdog; 252 the guest could not be started; "
	    "254 the guest\n"
	    "broke the ABI and was stopped; 255 the guest aborted or took a "
	    "CPU exception;\n"
	    "2 bad usage.\n");
}

void mon_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	host_vmsg(fmt, ap);
	va_end(ap);
}

void mon_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	host_vfail(fmt, ap);
}

void mon_stop(struct guest *g, const char *fmt, ...)
{
	va_list ap;
	(void)g;
	va_start(ap, fmt);
	host_vstop(fmt, ap);
}

void mon_exit(int status)
{
	if (host_net_count())
		mon_msg("vcpu: %lu exits", (unsigned long)guest.stats.exits);
	host_exit(status);
}

uint64_t mon_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The host layer's clock: glibc reads it without a system call. */
uint64_t host_now(void)
{
	return mon_now();
}

static _Noreturn void bad_usage(const char *fmt, const char *arg)
{
	host_msg(fmt, arg);
	usage(stderr);
	exit(2);
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
	    {"block", required_argument, NULL, 'b'},
	    {"no-io-uring", no_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	uint64_t mem = MON_MEM_DEFAULT;
	unsigned watchdog = 0;
	bool no_uring = false;
	int c;

	host_msg_init("ingot-kvm");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		switch (c) {
		case 'm': {
			const char *err = host_parse_size(
			    optarg, INGOT_KVM_MEM_MIN, INGOT_KVM_MEM_MAX, &mem);
			if (err)
				bad_usage("%s", err);
			break;
		}
		case 'w':
			watchdog = parse_seconds(optarg);
			break;
		case 'n': {
			const char *err = host_net_option(optarg);
			if (err)
				bad_usage("%s", err);
			break;
		}
		case 'b': {
			const char *err = host_block_option(optarg);
			if (err)
				bad_usage("%s", err);
			break;
		}
		case 'u':
			no_uring = true;
			break;
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

	image_load(&guest.img, argv[optind]);
	devices_setup(&guest);
	host_net_uring_start(no_uring);
	host_block_uring_start(no_uring);
	seccomp_prepare();

	host_requests_init();
	vm_create(&guest, mem, argc - optind, argv + optind);
	if (watchdog)
		watchdog_start(&guest, watchdog);
	seccomp_confine();
	run_guest(&guest);
}
