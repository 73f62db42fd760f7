/*
 * lib/fw on the host, driven by lines on standard input, for
 * tests/test_fw.py.  Two devices, outside (0) and inside (1):
 *   p IN OUT HEX   the datagram HEX came in on IN, leaves on OUT (or "-",
 *                  addressed to the firewall): prints its verdict
 *   t SECONDS      the clock moves on
 *   e              expires every flow whose time ran out
 *   c              prints the counters report
 * The rules are the ones compiled in (the Makefile's rules2c run).
 */
#include <ingot/fw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const devices[] = {"outside", "inside"};

static const char *if_name(unsigned i)
{
	return devices[i];
}

static int device(const char *name)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(name, devices[i]) == 0)
			return i;
	if (strcmp(name, "-") == 0)
		return -1;
	fprintf(stderr, "fw_verdict: no device %s\n", name);
	exit(2);
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned b;
	while (n < cap && sscanf(s, "%2x", &b) == 1) {
		out[n++] = (uint8_t)b;
		s += 2;
	}
	return n;
}

int main(void)
{
	static char line[200000], in[32], out[32], hex[140000];
	static uint8_t pkt[70000];
	uint64_t now = 1000000000ULL;
	if (fw_init(&fw_rules, 2, if_name, 12345) != 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		double secs;
		if (sscanf(line, "p %31s %31s %139999s", in, out, hex) == 3) {
			size_t n = unhex(hex, pkt, sizeof pkt);
			enum fw_verdict v =
			    fw_filter(pkt, n, device(in), device(out), now);
			printf("%s\n", fw_verdict_name(v));
		} else if (sscanf(line, "t %lf", &secs) == 1) {
			now += (uint64_t)(secs * 1e9);
		} else if (line[0] == 'e') {
			fw_expire(now, ~0u);
		} else if (line[0] == 'c') {
			fw_print_counters();
			printf("end\n");
		} else {
			fprintf(stderr, "fw_verdict: bad line: %s", line);
			return 2;
		}
	}
	return 0;
}
