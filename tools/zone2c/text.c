/* zone2c: errors, names in text and wire form, the tokenizer. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zone2c.h"

/* --- names ---------------------------------------------------------------- */

static const struct name root = {1, {0}};

/* After a backslash, at *p: the byte \\X or \\DDD stands for, with *p moved
 * past it; -1 at the end of the text. */
int escape(const char **p)
{
	const char *s = *p;
	if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2])) {
		int c = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
		if (c > 255)
			fail("expected \\DDD with DDD at most 255");
		*p = s + 3;
		return c;
	}
	if (!*s || *s == '\n')
		return -1;
	*p = s + 1;
	return (unsigned char)*s;
}

void name_lower(struct name *n)
{
	for (unsigned i = 0; i < n->len;) {
		unsigned l = n->wire[i++];
		for (unsigned k = 0; k < l; k++, i++)
			n->wire[i] = (uint8_t)tolower(n->wire[i]);
	}
}

bool name_equal(const struct name *a, const struct name *b)
{
	return a->len == b->len && memcmp(a->wire, b->wire, a->len) == 0;
}

/* Whether a is b or below it (both lower case). */
bool name_under(const struct name *a, const struct name *b)
{
	if (a->len < b->len)
		return false;
	unsigned i = 0;
	while (a->len - i > b->len)
		i += 1 + a->wire[i];
	return a->len - i == b->len &&
	       memcmp(a->wire + i, b->wire, b->len) == 0;
}

/* The parent of n (n not the root). */
struct name name_parent(const struct name *n)
{
	struct name p;
	unsigned skip = 1 + n->wire[0];
	p.len = (uint8_t)(n->len - skip);
	memcpy(p.wire, n->wire + skip, p.len);
	return p;
}

/* Text -> wire name, relative to origin unless it ends in a dot. */
struct name parse_name(const char *s, const struct name *origin)
{
	struct name n = {0};
	if (strcmp(s, "@") == 0) {
		if (!origin)
			fail("'@' with no $ORIGIN");
		return *origin;
	}
	if (strcmp(s, ".") == 0)
		return root;
	unsigned pos = 0;
	bool absolute = false;
	while (*s) {
		uint8_t label[63];
		unsigned l = 0;
		while (*s && *s != '.') {
			int c = (unsigned char)*s++;
			if (c == '\\' && (c = escape(&s)) < 0)
				fail("expected a character after '\\'");
			if (l == 63)
				fail("expected labels of at most 63 bytes");
			label[l++] = (uint8_t)c;
		}
		if (!l)
			fail("expected a name, found an empty label");
		if (pos + 1 + l > NAME_MAX_WIRE - 1)
			fail("expected a name of at most 255 bytes");
		n.wire[pos++] = (uint8_t)l;
		memcpy(n.wire + pos, label, l);
		pos += l;
		if (*s == '.') {
			s++;
			if (!*s)
				absolute = true;
		}
	}
	if (absolute) {
		n.wire[pos++] = 0;
	} else {
		if (!origin)
			fail("relative name with no $ORIGIN");
		if (pos + origin->len > NAME_MAX_WIRE)
			fail("expected a name of at most 255 bytes");
		memcpy(n.wire + pos, origin->wire, origin->len);
		pos += origin->len;
	}
	n.len = (uint8_t)pos;
	return n;
}

void name_text(const struct name *n, char *out)
{
	unsigned i = 0;
	char *o = out;
	if (n->len == 1) {
		strcpy(out, ".");
		return;
	}
	while (n->wire[i]) {
		unsigned l = n->wire[i++];
		for (unsigned k = 0; k < l; k++) {
			int c = n->wire[i++];
			if (c == '.' || c == '\\')
				*o++ = '\\';
			if (isgraph(c))
				*o++ = (char)c;
			else
				o += sprintf(o, "\\%03d", c);
		}
		*o++ = '.';
	}
	*o = '\0';
}

/* --- the tokenizer -------------------------------------------------------- */

/* Reads the next line; false at end of file. */
bool next_line(struct source *s)
{
	ssize_t n = getline(&s->buf, &s->cap, s->f);
	if (n < 0) {
		if (s->parens) {
			cur_line = s->paren_line;
			fail("expected ')' to close this line's '(' before the "
			     "end "
			     "of the file");
		}
		return false;
	}
	s->line++;
	cur_line = s->line;
	s->p = s->buf;
	return true;
}

/* The next token of the entry, or false at its end (end of line outside
 * parentheses).  Parentheses join lines; comments run to the line's end. */
bool next_token(struct source *s, struct token *t)
{
	for (;;) {
		while (*s->p == ' ' || *s->p == '\t' || *s->p == '\r')
			s->p++;
		if (*s->p == ';')
			while (*s->p && *s->p != '\n')
				s->p++;
		if (*s->p == '\n' || !*s->p) {
			if (!s->parens)
				return false;
			if (!next_line(s))
				return false;
			continue;
		}
		if (*s->p == '(') {
			if (!s->parens)
				s->paren_line = s->line;
			s->parens++;
			s->p++;
			continue;
		}
		if (*s->p == ')') {
			if (!s->parens)
				fail("expected '(' before ')'");
			s->parens--;
			s->p++;
			continue;
		}
		break;
	}
	t->len = 0;
	t->quoted = *s->p == '"';
	if (t->quoted) {
		s->p++;
		while (*s->p != '"') {
			if (!*s->p || *s->p == '\n')
				fail("expected '\"' to end the string");
			int c = (unsigned char)*s->p++;
			if (c == '\\') {
				int e = escape(&s->p);
				c = e < 0 ? '\\'
					  : e; /* the string's end reports it */
			}
			if (t->len == sizeof t->text - 1)
				fail("string too long");
			t->text[t->len++] = (char)c;
		}
		s->p++;
	} else {
		while (*s->p && !strchr(" \t\r\n;()", *s->p)) {
			if (t->len == sizeof t->text - 2)
				fail("token too long");
			if (*s->p == '\\' && s->p[1] && s->p[1] != '\n')
				t->text[t->len++] =
				    *s->p++; /* kept for parse_name */
			t->text[t->len++] = *s->p++;
		}
	}
	t->text[t->len] = '\0';
	return true;
}
