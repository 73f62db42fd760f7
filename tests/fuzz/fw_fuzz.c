/*
 * libFuzzer over lib/fw: the rules of tests/fw/verdict.rules and a flow
 * table of 16 (the Makefile's CONFIG_FW_FLOWS here), fed a run of records
 *   [how] [length: 2 bytes, big-endian] [the datagram]
 * where how's bit 0 is the side it comes in on (outside or inside), bit 1
 * sends it to the firewall itself, and the rest moves the clock on first
 * (the square of it in seconds, so that every timeout is within reach).
 * After each datagram the flow table's books must balance.
 */
#include <ingot/fw.h>
#include <stdio.h>
#include <stdlib.h>

static const char *if_name(unsigned i)
{
	return i ? "inside" : "outside";
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fw_fuzz: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 1000000000ULL;
	if (fw_init(&fw_rules, 2, if_name, 7) != 0)
		abort();
	while (size >= 3) {
		unsigned how = data[0],
			 len = (unsigned)(data[1] << 8 | data[2]);
		data += 3;
		size -= 3;
		if (len > size)
			len = (unsigned)size;
		now += (uint64_t)(how >> 2) * (how >> 2) * 1000000000ULL;
		fw_expire(now, 4);
		int in = how & 1, out = how & 2 ? -1 : !in;
		enum fw_verdict v = fw_filter(data, len, in, out, now);
		check((unsigned)v < FW_VERDICTS, "a verdict out of range");
		data += len;
		size -= len;

		struct fw_stats st;
		fw_get_stats(&st);
		check(st.flows_live <= st.flows_max,
		      "more flows than the table");
		check(st.flows_assured <= st.flows_live,
		      "assured flows not live");
		check(st.flows_created ==
			  st.flows_live + st.flows_expired + st.flows_evicted,
		      "flows made and ended do not add up");
	}
	return 0;
}
