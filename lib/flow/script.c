/* script: a workflow file that is one plain pipeline; see script.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "flow/script.h"

struct parse {
	const char *p, *end;
	struct flow_script *s;
	char *word;   /* the word being read */
	size_t wlen, wcap;
	int oom;
};

static int no(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int no(struct parse *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->s->why, sizeof ps->s->why, fmt, ap);
	va_end(ap);
	return 0;
}

static int put(struct parse *ps, char c)
{
	if (ps->wlen + 2 > ps->wcap) {
		size_t cap = ps->wcap ? ps->wcap * 2 : 64;
		char *w = realloc(ps->word, cap);
		if (!w)
			return ps->oom = 1, -1;
		ps->word = w;
		ps->wcap = cap;
	}
	ps->word[ps->wlen++] = c;
	return 0;
}

static int plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("_@%+=:,./-", c));
}

static int shebang_ok(const char *line, size_t n)
{
	static const char *const ok[] = {
		"/bin/sh", "/bin/bash", "/bin/dash", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/dash",
		"/usr/bin/env sh", "/usr/bin/env bash", "/usr/bin/env dash", "/usr/bin/env syn-run",
	};
	while (n && (line[0] == ' ' || line[0] == '\t'))
		line++, n--;
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (strlen(ok[i]) == n && !memcmp(ok[i], line, n))
			return 1;
	return n > 8 && line[0] == '/' && !memcmp(line + n - 8, "/syn-run", 8) &&
	       !memchr(line, ' ', n) && !memchr(line, '\t', n);
}

/* Skips blanks, and with LINES newlines, comments and backslash-newlines
 * too (between commands); without, only blanks and backslash-newlines. */
static void skip(struct parse *ps, int lines)
{
	while (ps->p < ps->end) {
		char c = *ps->p;
		if (c == ' ' || c == '\t') {
			ps->p++;
		} else if (c == '\\' && ps->p + 1 < ps->end && ps->p[1] == '\n') {
			ps->p += 2;
		} else if (lines && c == '\n') {
			ps->p++;
		} else if (c == '#') { /* a comment, at the start of a word */
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
			if (!lines)
				return;
		} else {
			return;
		}
	}
}

/* Reads one word at ps->p into ps->word: 1, or 0 (not plain). */
static int word(struct parse *ps)
{
	ps->wlen = 0;
	while (ps->p < ps->end) {
		char c = *ps->p;
		if (c == ' ' || c == '\t' || c == '\n' || c == '|')
			break;
		if (c == '\\') {
			if (ps->p + 1 >= ps->end)
				return no(ps, "a backslash at the end");
			if (ps->p[1] != '\n' && put(ps, ps->p[1]) < 0)
				return 0;
			ps->p += 2;
		} else if (c == '\'') {
			const char *q = memchr(ps->p + 1, '\'', (size_t)(ps->end - ps->p - 1));
			if (!q)
				return no(ps, "a quote without its end");
			for (const char *r = ps->p + 1; r < q; r++)
				if (put(ps, *r) < 0)
					return 0;
			ps->p = q + 1;
		} else if (c == '"') {
			for (ps->p++;; ps->p++) {
				if (ps->p >= ps->end)
					return no(ps, "a quote without its end");
				char d = *ps->p;
				if (d == '"')
					break;
				if (d == '$' || d == '`')
					return no(ps, "an expansion (%c) in double quotes", d);
				if (d == '\\' && ps->p + 1 < ps->end && strchr("$`\"\\\n", ps->p[1])) {
					ps->p++;
					if (*ps->p == '\n')
						continue;
					d = *ps->p;
				}
				if (put(ps, d) < 0)
					return 0;
			}
			ps->p++;
		} else if (plain_char(c)) {
			if (put(ps, c) < 0)
				return 0;
			ps->p++;
		} else {
			return no(ps, "'%c' outside quotes", c);
		}
	}
	ps->word[ps->wlen] = 0;
	return 1;
}

static int is_step(const char *w)
{
	size_t n = strlen(w);
	return !strcmp(w, "syn-step") || (w[0] == '/' && n > 9 && !strcmp(w + n - 9, "/syn-step"));
}

/* One command, into a new stage: 1, or 0 (not plain). */
static int command(struct parse *ps)
{
	struct flow_script *s = ps->s;
	struct flow_script_stage *st = realloc(s->stage, (size_t)(s->n + 1) * sizeof *st);
	if (!st)
		return ps->oom = 1, 0;
	s->stage = st;
	st = &s->stage[s->n++];
	st->argc = 0;
	st->argv = NULL;
	size_t cap = 0;
	for (;;) {
		skip(ps, 0);
		if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '|' || *ps->p == '#')
			break;
		if (!ps->word && put(ps, 0) < 0)
			return 0;
		if (!word(ps))
			return 0;
		if ((size_t)st->argc + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			char **a = realloc(st->argv, cap * sizeof *a);
			if (!a)
				return ps->oom = 1, 0;
			st->argv = a;
		}
		if (!(st->argv[st->argc] = strdup(ps->word)))
			return ps->oom = 1, 0;
		st->argv[++st->argc] = NULL;
	}
	if (!st->argc)
		return no(ps, "a command missing");
	if (!is_step(st->argv[0]))
		return no(ps, "a command that is not syn-step (%.60s)", st->argv[0]);
	return 1;
}

int flow_script_parse(const char *text, size_t n, struct flow_script *s)
{
	memset(s, 0, sizeof *s);
	struct parse ps = { .p = text, .end = text + n, .s = s };
	int rc = 0;
	const char *nl = memchr(text, '\n', n);
	if (memchr(text, 0, n))
		no(&ps, "a NUL byte");
	else if (n < 2 || text[0] != '#' || text[1] != '!' || !nl)
		no(&ps, "no #! line");
	else if (!shebang_ok(text + 2, (size_t)(nl - text - 2)))
		no(&ps, "its #! line names another interpreter, or options");
	else
		for (ps.p = nl + 1, rc = 1; rc;) {
			skip(&ps, s->n == 0);
			if (s->n && ps.p < ps.end && *ps.p == '\n') /* the pipeline's end */
				break;
			if (ps.p >= ps.end) {
				if (!s->n)
					rc = no(&ps, "no pipeline");
				break;
			}
			if (!command(&ps)) {
				rc = 0;
				break;
			}
			skip(&ps, 0);
			if (ps.p < ps.end && *ps.p == '|') {
				ps.p++;
				if (ps.p < ps.end && (*ps.p == '|' || *ps.p == '&'))
					rc = no(&ps, "'|%c'", *ps.p);
				skip(&ps, 1);
				if (ps.p >= ps.end)
					rc = no(&ps, "a pipe to nothing");
				continue;
			}
			break;
		}
	if (rc == 1) { /* only blank lines and comments may follow */
		skip(&ps, 1);
		if (ps.p < ps.end)
			rc = no(&ps, "more than one pipeline");
	}
	free(ps.word);
	if (ps.oom)
		return err_set("out of memory"), -1;
	return rc;
}

void flow_script_free(struct flow_script *s)
{
	for (int i = 0; i < s->n; i++) {
		for (int j = 0; j < s->stage[i].argc; j++)
			free(s->stage[i].argv[j]);
		free(s->stage[i].argv);
	}
	free(s->stage);
	s->stage = NULL;
	s->n = 0;
}
