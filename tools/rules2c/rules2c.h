/*
 * rules2c: compiles a firewall rules file (the format is in the README,
 * "Firewall rules") into C data for lib/fw (layout in lib/fw/ruleset.h),
 * at build time.
 *   rules2c [-o OUT.c] [-i INTERFACE]... RULESFILE
 * With -i, every interface a rule names must be one of those given (the
 * image's network devices).  An error names file:line and what was
 * expected, and fails the build.
 *
 * lex.c: errors, lines, tokens and macros; parse.c: rules and their
 * checks; main.c: the command line and the C written out.
 */
#ifndef TOOLS_RULES2C_H
#define TOOLS_RULES2C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../lib/fw/ruleset.h"
#include "../common/diag.h"

#define TOKEN_MAX 64

struct token {
	char text[TOKEN_MAX];
};

/* One logical line (continuations joined), its tokens with macros
 * expanded. */
struct line {
	unsigned number; /* where it starts */
	char *text;      /* without the comment, blanks trimmed */
	struct token *tok;
	size_t ntok;
};

extern const char *cur_file;
extern unsigned cur_line;
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *xrealloc(void *p, size_t n);

/* The next rule line of f (macro definitions are taken in on the way),
 * or false at the end of the file. */
bool next_line(FILE *f, struct line *l);

/* What the rules compile to, in the arrays main.c writes out. */
struct compiled {
	struct fw_rule *rules;
	size_t nrules;
	struct fw_prefix *prefixes;
	size_t nprefixes;
	struct fw_range *ranges;
	size_t nranges;
	char **ifnames;
	size_t nifs;
};

extern struct compiled out;
/* The interfaces -i allows (none given: any name). */
extern char **allowed_ifs;
extern size_t nallowed_ifs;

void parse_rule(const struct line *l);

#endif
