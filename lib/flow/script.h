/* script: a workflow file that is one plain pipeline of syn-steps.
 *
 * syn-run drives a workflow by running its file, whose shell starts every
 * stage. When the file is nothing but a pipeline of literal syn-step
 * commands, the shell adds nothing to them: no variable, no expansion, no
 * redirection, no other command, no change of directory or environment.
 * Then the stages are known from the text alone, each one's argv exactly
 * as the shell would give it, and syn-run may run some of them itself (a
 * resumed run starts at the step it waits at: chain.h).
 *
 * Plain means: a first line "#!" and one of /bin/sh, /bin/bash, /bin/dash
 * (or the same under /usr/bin), "/usr/bin/env" and sh, bash, dash or
 * syn-run, or a path ending in /syn-run, with no options; then blank
 * lines and comments, one pipeline, and blank lines and comments. The
 * pipeline's commands are joined by '|' (a newline, a comment or a
 * backslash-newline may follow one), and each command is words: unquoted
 * letters, digits and _@%+=:,./- , a backslash and the character it
 * quotes, '...', and "..." without $ or `; its first word is syn-step,
 * or a path ending in /syn-step. Anything else is not plain (and a file
 * that is not plain is run by its shell as before).
 */
#ifndef PANIC_FLOW_SCRIPT_H
#define PANIC_FLOW_SCRIPT_H

#include <stddef.h>

struct flow_script_stage {
	int argc;
	char **argv; /* NULL-terminated */
};

struct flow_script {
	int n;                          /* stages */
	struct flow_script_stage *stage;
	char why[160];                  /* when it is not plain: the first thing that is not */
};

/* Parses the N bytes of TEXT into S: 1 (plain), 0 (not plain: S->why
 * says why), or -1 with err_msg() (out of memory). S is to be freed in
 * every case. */
int flow_script_parse(const char *text, size_t n, struct flow_script *s);
void flow_script_free(struct flow_script *s);

#endif
