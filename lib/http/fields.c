/* The fields a static server acts on (RFC 9110): dates, entity tags,
 * Accept-Encoding, Range; and chunked bodies (RFC 9112 7.1). */
#include <string.h>

#include "request.h"
#include "site.h"

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

static bool ieq(const uint8_t *p, size_t n, const char *s)
{
	if (n != strlen(s))
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != (uint8_t)s[i])
			return false;
	return true;
}

/* --- dates --------------------------------------------------------------- */

static const char days[7][4] = {"Thu", "Fri", "Sat", "Sun",
				"Mon", "Tue", "Wed"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void http_format_date(int64_t t, char *out)
{
	int64_t z = (t >= 0 ? t : t - 86399) / 86400;
	int64_t secs = t - z * 86400;
	unsigned wd = (unsigned)(((z % 7) + 7) % 7);
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;
	unsigned hh = (unsigned)(secs / 3600), mm = (unsigned)(secs / 60 % 60),
		 ss = (unsigned)(secs % 60);
	char *o = out;
	memcpy(o, days[wd], 3);
	o += 3;
	*o++ = ',';
	*o++ = ' ';
	*o++ = (char)('0' + d / 10);
	*o++ = (char)('0' + d % 10);
	*o++ = ' ';
	memcpy(o, months[m - 1], 3);
	o += 3;
	*o++ = ' ';
	*o++ = (char)('0' + y / 1000);
	*o++ = (char)('0' + y / 100 % 10);
	*o++ = (char)('0' + y / 10 % 10);
	*o++ = (char)('0' + y % 10);
	*o++ = ' ';
	*o++ = (char)('0' + hh / 10);
	*o++ = (char)('0' + hh % 10);
	*o++ = ':';
	*o++ = (char)('0' + mm / 10);
	*o++ = (char)('0' + mm % 10);
	*o++ = ':';
	*o++ = (char)('0' + ss / 10);
	*o++ = (char)('0' + ss % 10);
	memcpy(o, " GMT", 5);
}

/* n decimal digits at s[*i]; -1 if any is not a digit. */
static int digits(const uint8_t *s, size_t len, size_t *i, unsigned n)
{
	int v = 0;
	if (*i + n > len)
		return -1;
	for (unsigned k = 0; k < n; k++) {
		uint8_t c = s[(*i)++];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	return v;
}

static bool lit(const uint8_t *s, size_t len, size_t *i, const char *l)
{
	size_t n = strlen(l);
	if (*i + n > len || memcmp(s + *i, l, n) != 0)
		return false;
	*i += n;
	return true;
}

static int month(const uint8_t *s, size_t len, size_t *i)
{
	if (*i + 3 > len)
		return -1;
	for (int m = 0; m < 12; m++)
		if (memcmp(s + *i, months[m], 3) == 0) {
			*i += 3;
			return m + 1;
		}
	return -1;
}

/* hh:mm:ss */
static int64_t clock_time(const uint8_t *s, size_t len, size_t *i)
{
	int h = digits(s, len, i, 2);
	if (h < 0 || h > 23 || !lit(s, len, i, ":"))
		return -1;
	int m = digits(s, len, i, 2);
	if (m < 0 || m > 59 || !lit(s, len, i, ":"))
		return -1;
	int sec = digits(s, len, i, 2);
	if (sec < 0 || sec > 60)
		return -1;
	return (int64_t)h * 3600 + m * 60 + sec;
}

bool http_parse_date(const uint8_t *s, size_t len, int64_t *t)
{
	size_t i = 0;
	while (i < len && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
		i++;
	if (i < 3)
		return false;
	int d, m, y;
	int64_t tod;
	if (lit(s, len, &i, ", ")) {
		if (i == 5) { /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
			if ((d = digits(s, len, &i, 2)) < 0 ||
			    !lit(s, len, &i, " ") ||
			    (m = month(s, len, &i)) < 0 ||
			    !lit(s, len, &i, " ") ||
			    (y = digits(s, len, &i, 4)) < 0 ||
			    !lit(s, len, &i, " "))
				return false;
		} else { /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
			if ((d = digits(s, len, &i, 2)) < 0 ||
			    !lit(s, len, &i, "-") ||
			    (m = month(s, len, &i)) < 0 ||
			    !lit(s, len, &i, "-") ||
			    (y = digits(s, len, &i, 2)) < 0 ||
			    !lit(s, len, &i, " "))
				return false;
			y += y < 70 ? 2000 : 1900;
		}
		if ((tod = clock_time(s, len, &i)) < 0 ||
		    !lit(s, len, &i, " GMT") || i != len)
			return false;
	} else if (i == 3 && lit(s, len, &i, " ")) {
		/* asctime: Sun Nov  6 08:49:37 1994 */
		if ((m = month(s, len, &i)) < 0 || !lit(s, len, &i, " "))
			return false;
		if (i < len && s[i] == ' ') {
			i++;
			d = digits(s, len, &i, 1);
		} else {
			d = digits(s, len, &i, 2);
		}
		if (d < 0 || !lit(s, len, &i, " ") ||
		    (tod = clock_time(s, len, &i)) < 0 ||
		    !lit(s, len, &i, " ") || (y = digits(s, len, &i, 4)) < 0 ||
		    i != len)
			return false;
	} else {
		return false;
	}
	static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31};
	if (d < 1 || d > mdays[m - 1])
		return false;
	*t = days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + tod;
	return true;
}

/* --- entity tags -----------------------------------------------------------
 */

bool http_etag_match(const uint8_t *head, size_t len,
		     const struct http_request *r, enum http_field_id id,
		     const char *etag, size_t etag_len, bool weak)
{
	struct http_list_iter it = {0};
	struct http_span m;
	while (http_list_next(head, len, r, id, &it, &m)) {
		const uint8_t *p = head + m.off;
		size_t n = m.len;
		if (n == 1 && p[0] == '*')
			return true;
		if (n >= 2 && p[0] == 'W' && p[1] == '/') {
			if (!weak)
				continue;
			p += 2;
			n -= 2;
		}
		if (n == etag_len && memcmp(p, etag, n) == 0)
			return true;
	}
	return false;
}

/* --- Accept-Encoding -------------------------------------------------------
 */

/* A qvalue (RFC 9110 12.4.2) in thousandths, or -1. */
static int qvalue(const uint8_t *p, size_t n)
{
	if (!n || (p[0] != '0' && p[0] != '1') || (n > 1 && p[1] != '.') ||
	    n > 5)
		return -1;
	int q = (p[0] - '0') * 1000, scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		q += (p[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

int http_pick_encoding(const uint8_t *head, size_t len,
		       const struct http_request *r, unsigned available)
{
	/* q per coding, -1 while not named; star for "*". */
	int q[HTTP_ENC_COUNT] = {-1, -1, -1}, star = -1;
	struct http_list_iter it = {0};
	struct http_span m;
	if (!r->f[HTTP_F_ACCEPT_ENCODING].count)
		return HTTP_ENC_IDENTITY;
	while (http_list_next(head, len, r, HTTP_F_ACCEPT_ENCODING, &it, &m)) {
		const uint8_t *p = head + m.off;
		size_t n = 0, e;
		while (n < m.len && p[n] != ';' && p[n] != ' ' && p[n] != '\t')
			n++;
		int v = 1000;
		/* Parameters: only q counts. */
		for (e = n; e < m.len;) {
			while (e < m.len &&
			       (p[e] == ';' || p[e] == ' ' || p[e] == '\t'))
				e++;
			size_t s = e;
			while (e < m.len && p[e] != ';')
				e++;
			size_t t = e;
			while (t > s && (p[t - 1] == ' ' || p[t - 1] == '\t'))
				t--;
			if (t - s >= 2 && (p[s] | 0x20) == 'q' &&
			    p[s + 1] == '=')
				v = qvalue(p + s + 2, t - s - 2);
		}
		if (v < 0)
			continue;
		if (ieq(p, n, "br"))
			q[HTTP_ENC_BR] = v;
		else if (ieq(p, n, "gzip") || ieq(p, n, "x-gzip"))
			q[HTTP_ENC_GZIP] = v;
		else if (ieq(p, n, "identity"))
			q[HTTP_ENC_IDENTITY] = v;
		else if (n == 1 && p[0] == '*')
			star = v;
	}
	for (int e = 0; e < HTTP_ENC_COUNT; e++)
		if (q[e] < 0)
			q[e] =
			    star >= 0 ? star : (e == HTTP_ENC_IDENTITY ? 1 : 0);
	int best = HTTP_ENC_IDENTITY, bq = 0;
	static const int order[HTTP_ENC_COUNT] = {HTTP_ENC_BR, HTTP_ENC_GZIP,
						  HTTP_ENC_IDENTITY};
	for (int k = 0; k < HTTP_ENC_COUNT; k++) {
		int e = order[k];
		if ((available & (1u << e)) && q[e] > bq) {
			best = e;
			bq = q[e];
		}
	}
	return best;
}

/* --- Range ------------------------------------------------------------------
 */

/* Decimal digits p[*i..]: false if none; saturates at UINT64_MAX. */
static bool number(const uint8_t *p, size_t n, size_t *i, uint64_t *v)
{
	size_t s = *i;
	*v = 0;
	for (; *i < n && p[*i] >= '0' && p[*i] <= '9'; (*i)++)
		*v = *v > (UINT64_MAX - 9) / 10 ? UINT64_MAX
						: *v * 10 + (p[*i] - '0');
	return *i > s;
}

enum http_range_result http_parse_range(const uint8_t *head, size_t len,
					const struct http_request *r,
					uint64_t size, uint64_t *first,
					uint64_t *last)
{
	const struct http_field_ref *f = &r->f[HTTP_F_RANGE];
	if (f->count != 1)
		return HTTP_RANGE_NONE;
	const uint8_t *p = head + f->first.off;
	size_t n = f->first.len, i = 6;
	if (n < 7 || !ieq(p, 6, "bytes="))
		return HTTP_RANGE_NONE;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	uint64_t a, b;
	bool has_a = number(p, n, &i, &a);
	if (i >= n || p[i++] != '-')
		return HTTP_RANGE_NONE;
	bool has_b = number(p, n, &i, &b);
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i != n || (!has_a && !has_b) || (has_a && has_b && b < a))
		return HTTP_RANGE_NONE; /* several ranges, or not one */
	if (!has_a) {                   /* suffix: the last b bytes */
		if (!b || !size)
			return HTTP_RANGE_UNSATISFIABLE;
		*first = b < size ? size - b : 0;
		*last = size - 1;
		return HTTP_RANGE_OK;
	}
	if (a >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	*first = a;
	*last = has_b && b < size - 1 ? b : size - 1;
	return HTTP_RANGE_OK;
}

/* --- chunked bodies --------------------------------------------------------
 */

enum {
	CH_SIZE_START,
	CH_SIZE,
	CH_EXT,
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER_START,
	CH_TRAILER,
	CH_TRAILER_LF,
	CH_END_LF,
};

/* Extension and trailer lines are skipped, up to this many bytes each. */
#define CH_LINE_MAX 4096

int http_chunked_feed(struct http_chunked *c, const uint8_t *p, size_t n,
		      size_t *used, uint64_t max)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		int h;
		switch (c->state) {
		case CH_SIZE_START:
		case CH_SIZE:
			h = b >= '0' && b <= '9' ? b - '0'
			    : (b | 0x20) >= 'a' && (b | 0x20) <= 'f'
				? (b | 0x20) - 'a' + 10
				: -1;
			if (h >= 0) {
				c->left = c->left * 16 + (uint64_t)h;
				if (c->left > max || c->total + c->left > max)
					return -413;
				c->state = CH_SIZE;
			} else if (c->state == CH_SIZE_START) {
				return -400;
			} else if (b == ';' || b == ' ' || b == '\t') {
				c->state = CH_EXT;
				c->line = 0;
			} else if (b == '\r') {
				c->state = CH_SIZE_LF;
			} else {
				return -400;
			}
			break;
		case CH_EXT:
		case CH_TRAILER:
			if (b == '\r')
				c->state = c->state == CH_EXT ? CH_SIZE_LF
							      : CH_TRAILER_LF;
			else if (b == '\n' || b == 0 || ++c->line > CH_LINE_MAX)
				return -400;
			break;
		case CH_SIZE_LF:
			if (b != '\n')
				return -400;
			c->state = c->left ? CH_DATA : CH_TRAILER_START;
			break;
		case CH_DATA: {
			size_t k = n - i < c->left ? n - i : (size_t)c->left;
			c->left -= k;
			c->total += k;
			i += k - 1;
			if (!c->left)
				c->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
			if (b != '\r')
				return -400;
			c->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (b != '\n')
				return -400;
			c->state = CH_SIZE_START;
			break;
		case CH_TRAILER_START:
			if (b == '\r') {
				c->state = CH_END_LF;
			} else if (b == '\n' || b == 0) {
				return -400;
			} else {
				c->state = CH_TRAILER;
				c->line = 1;
			}
			break;
		case CH_TRAILER_LF:
			if (b != '\n')
				return -400;
			c->state = CH_TRAILER_START;
			break;
		case CH_END_LF:
			if (b != '\n')
				return -400;
			*used = i + 1;
			return 1;
		default:
			return -400;
		}
	}
	*used = n;
	return 0;
}
