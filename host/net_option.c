/*
 * --net NAME=BACKEND[,mac=MAC][,mtu=N][,queue=N][,offload=off]: the
 * option's syntax, checked in full before anything is opened (see net.h).
 * The default MAC address is stable per backend, so a guest keeps its
 * address across restarts.
 */
#include <stdio.h>
#include <string.h>

#include "net.h"
#include "net_dev.h"
#include "sys.h"

struct host_net_dev host_net_devs[INGOT_DEVICES_MAX];
unsigned host_net_ndevs;

static char error[256];

static const char *fail(const char *spec, const char *why)
{
	snprintf(error, sizeof error, "--net %s: %s", spec, why);
	return error;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* "5000:5001" (exactly len bytes) -> ports 1-65535. */
static bool parse_ports(const char *s, size_t len, uint16_t port[2])
{
	unsigned k = 0;
	for (size_t i = 0; i < len && k < 2; k++) {
		unsigned v = 0;
		size_t start = i;
		for (; i < len && s[i] >= '0' && s[i] <= '9' && v < 65536; i++)
			v = v * 10 + (unsigned)(s[i] - '0');
		if (i == start || !v || v > 65535)
			return false;
		port[k] = (uint16_t)v;
		if (k == 0 && (i == len || s[i++] != ':'))
			return false;
		if (k == 1 && i != len)
			return false;
	}
	return k == 2;
}

/* Why s (len bytes) cannot name an existing tap device, or NULL. */
static const char *bad_tap_name(const char *s, size_t len)
{
	if (!len || len >= IFNAMSIZ)
		return "a tap device's name is 1 to 15 characters";
	if (memchr(s, '%', len))
		return "a tap device's name has no '%': ingot attaches to an "
		       "existing tap device and never creates one";
	if ((len == 1 && s[0] == '.') || (len == 2 && !memcmp(s, "..", 2)))
		return "not a network device's name";
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '/' || s[i] == ':')
			return "not a network device's name";
	return NULL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Exactly "02:00:00:00:00:01", a unicast address other than zero. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++, s += 3) {
		int hi = hex_digit(s[0]), lo = hex_digit(s[1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	static const uint8_t zero[6];
	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

/* The decimal number of exactly len bytes at s, at most max; false if it is
 * not one. */
static bool parse_uint(const char *s, size_t len, unsigned max, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || *v > (max - (s[i] - '0')) / 10)
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return len > 0;
}

/* A locally administered unicast address, stable for key. */
static void default_mac(const char *key, uint8_t mac[6])
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

const char *host_net_option(const char *spec)
{
	struct host_net_dev *d = &host_net_devs[host_net_ndevs];
	const char *eq = strchr(spec, '='), *backend, *comma;

	if (host_net_ndevs == INGOT_DEVICES_MAX)
		return fail(spec, "too many --net options");
	if (!eq) {
		snprintf(error, sizeof error,
			 "--net wants " HOST_NET_SYNTAX ", not '%s'", spec);
		return error;
	}
	size_t nlen = (size_t)(eq - spec);
	if (!nlen || nlen > INGOT_DEVICE_NAME_MAX)
		return fail(spec, "a device's name is 1 to 31 characters");
	for (size_t i = 0; i < nlen; i++)
		if (!is_name_char(spec[i]))
			return fail(spec, "a device's name is letters, digits "
					  "and _ (as in the image)");
	memcpy(d->name, spec, nlen);
	d->name[nlen] = '\0';
	for (unsigned i = 0; i < host_net_ndevs; i++)
		if (strcmp(host_net_devs[i].name, d->name) == 0)
			return fail(spec, "that device is given twice");

	backend = eq + 1;
	comma = strchr(backend, ',');
	size_t blen = comma ? (size_t)(comma - backend) : strlen(backend);
	d->udp = strncmp(backend, "udp:", 4) == 0;
	if (d->udp && (blen >= HOST_NET_BACKEND_MAX ||
		       !parse_ports(backend + 4, blen - 4, d->port)))
		return fail(spec, "expected udp:LPORT:RPORT (ports 1-65535)");
	const char *why = d->udp ? NULL : bad_tap_name(backend, blen);
	if (why)
		return fail(spec, why);
	memcpy(d->backend, backend, blen);
	d->backend[blen] = '\0';

	default_mac(d->backend, d->mac);
	d->no_offload = false;
	d->mtu = 1500;
	d->queue = 0;
	while (comma) {
		const char *opt = comma + 1;
		comma = strchr(opt, ',');
		size_t olen = comma ? (size_t)(comma - opt) : strlen(opt);
		if (olen == 17 + 4 && strncmp(opt, "mac=", 4) == 0) {
			char mac[18];
			memcpy(mac, opt + 4, 17);
			mac[17] = '\0';
			if (parse_mac(mac, d->mac))
				continue;
		} else if (olen == 11 && strncmp(opt, "offload=off", 11) == 0) {
			d->no_offload = true;
			continue;
		} else if (olen > 4 && strncmp(opt, "mtu=", 4) == 0) {
			unsigned v;
			if (parse_uint(opt + 4, olen - 4, 1500, &v) &&
			    v >= 576) {
				d->mtu = (uint16_t)v;
				continue;
			}
			return fail(spec,
				    "mtu= takes 576 to 1500 (bytes of IP)");
		} else if (olen >= 6 && !d->udp &&
			   strncmp(opt, "queue=", 6) == 0) {
			if (parse_uint(opt + 6, olen - 6, HOST_NET_QUEUE_MAX,
				       &d->queue))
				continue;
			return fail(spec, "queue= takes 0 to 65536 (frames)");
		}
		return fail(spec, "expected after the backend only ,mac=XX:XX:"
				  "XX:XX:XX:XX (unicast), ,mtu=N, ,queue=N "
				  "(a tap) and ,offload=off");
	}
	d->handle = -1;
	d->fd = -1;
	host_net_ndevs++;
	return NULL;
}
