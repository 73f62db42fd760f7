/* rules2c: logical lines, tokens and macros. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules2c.h"

struct macro {
	char name[TOKEN_MAX];
	struct token *tok;
	size_t ntok;
	unsigned line;
};

static struct macro *macros;
static size_t nmacros;

static const struct macro *find_macro(const char *name)
{
	for (size_t i = 0; i < nmacros; i++)
		if (strcmp(macros[i].name, name) == 0)
			return &macros[i];
	return NULL;
}

static void push(struct line *l, const char *text, size_t len)
{
	if (len >= TOKEN_MAX)
		fail("'%.*s...' is too long (at most %d characters)", 20, text,
		     TOKEN_MAX - 1);
	l->tok = xrealloc(l->tok, (l->ntok + 1) * sizeof *l->tok);
	memcpy(l->tok[l->ntok].text, text, len);
	l->tok[l->ntok].text[len] = '\0';
	l->ntok++;
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("_.:/-", c));
}

/* Splits text into tokens: words, the punctuation { } , ! =, and $NAME,
 * which becomes the macro's tokens. */
static void tokenize(struct line *l, const char *p)
{
	while (*p) {
		if (isspace((unsigned char)*p)) {
			p++;
		} else if (strchr("{},!=", *p)) {
			push(l, p, 1);
			p++;
		} else if (*p == '$' || word_char(*p)) {
			const char *s = p + (*p == '$');
			const char *e = s;
			while (word_char(*e))
				e++;
			if (*p == '$') {
				char name[TOKEN_MAX];
				if (e == s || e - s >= TOKEN_MAX)
					fail("expected a macro name after '$'");
				snprintf(name, sizeof name, "%.*s",
					 (int)(e - s), s);
				const struct macro *m = find_macro(name);
				if (!m)
					fail("no macro '%s' defined above",
					     name);
				for (size_t i = 0; i < m->ntok; i++)
					push(l, m->tok[i].text,
					     strlen(m->tok[i].text));
			} else {
				push(l, s, (size_t)(e - s));
			}
			p = e;
		} else {
			fail("unexpected character '%c'", *p);
		}
	}
}

/* Lines read so far; cur_line is where errors point. */
static unsigned phys_line;

/* Reads one physical line into *buf; false at the end of the file. */
static bool read_line(FILE *f, char **buf, size_t *cap)
{
	size_t len = 0;
	int c;
	while ((c = getc(f)) != EOF && c != '\n') {
		if (len + 2 > *cap) {
			*cap = *cap ? *cap * 2 : 256;
			*buf = xrealloc(*buf, *cap);
		}
		(*buf)[len++] = (char)c;
	}
	if (c == EOF && len == 0)
		return false;
	if (!*buf)
		*buf = xrealloc(NULL, *cap = 256);
	(*buf)[len] = '\0';
	phys_line++;
	return true;
}

/* The next logical line: a comment runs from # to the end of the line,
 * a backslash at the end joins the next line. */
static bool logical_line(FILE *f, struct line *l)
{
	static char *buf;
	static size_t cap;
	size_t len = 0;
	l->text = NULL;
	l->number = 0;
	while (read_line(f, &buf, &cap)) {
		if (!l->number)
			l->number = phys_line;
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		size_t n = strlen(buf);
		while (n && isspace((unsigned char)buf[n - 1]))
			n--;
		bool more = n && buf[n - 1] == '\\';
		if (more)
			n--;
		l->text = xrealloc(l->text, len + n + 2);
		if (len)
			l->text[len++] = ' ';
		memcpy(l->text + len, buf, n);
		len += n;
		l->text[len] = '\0';
		if (!more)
			return true;
	}
	if (l->text) {
		cur_line = phys_line;
		fail("the file ends inside a continued line");
	}
	return false;
}

static bool is_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* NAME = VALUE: VALUE's tokens stand for $NAME in the lines below. */
static void define_macro(struct line *l)
{
	const char *name = l->tok[0].text;
	if (!is_name(name))
		fail("a macro's name is letters, digits and _: '%s'", name);
	const struct macro *old = find_macro(name);
	if (old)
		fail("macro '%s' is already defined at line %u", name,
		     old->line);
	if (l->ntok < 3)
		fail("expected a value after '%s ='", name);
	macros = xrealloc(macros, (nmacros + 1) * sizeof *macros);
	struct macro *m = &macros[nmacros++];
	snprintf(m->name, sizeof m->name, "%s", name);
	m->ntok = l->ntok - 2;
	m->tok = xrealloc(NULL, m->ntok * sizeof *m->tok);
	memcpy(m->tok, l->tok + 2, m->ntok * sizeof *m->tok);
	m->line = l->number;
}

bool next_line(FILE *f, struct line *l)
{
	for (;;) {
		free(l->tok);
		free(l->text);
		l->tok = NULL;
		l->ntok = 0;
		if (!logical_line(f, l))
			return false;
		/* Errors from here on name the line the rule starts on. */
		cur_line = l->number;
		tokenize(l, l->text);
		if (l->ntok >= 2 && strcmp(l->tok[1].text, "=") == 0) {
			define_macro(l);
			continue;
		}
		if (l->ntok) {
			/* The text as the counters show it: blanks made one. */
			char *w = l->text;
			for (const char *r = l->text; *r; r++)
				if (!isspace((unsigned char)*r))
					*w++ = *r;
				else if (w > l->text && w[-1] != ' ')
					*w++ = ' ';
			while (w > l->text && w[-1] == ' ')
				w--;
			*w = '\0';
			return true;
		}
	}
}
