/* script: a workflow file as syn-run reads it to take a resumed run on
 * itself (lib/flow/script.h): any bytes; a file found plain is one or
 * more stages, each syn-step and its words, and each stage's command line
 * is then parsed as syn-step parses its own (lib/flow/stepargs.h), good
 * options or bad. A file not plain always says why. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "flow/script.h"
#include "flow/step.h"
#include "flow/stepargs.h"

static void other(int c, const char *arg, void *ctx)
{
	(void)c;
	(void)arg;
	(*(int *)ctx)++;
}

int fuzz_one(const unsigned char *data, size_t n)
{
	struct flow_script s;
	int rc = flow_script_parse((const char *)data, n, &s);
	if (rc == 0 && !s.why[0])
		abort();
	if (rc == 1 && s.n < 1)
		abort();
	opterr = 0;
	for (int i = 0; rc == 1 && i < s.n; i++) {
		struct flow_script_stage *st = &s.stage[i];
		if (st->argc < 1 || st->argv[st->argc] || !strstr(st->argv[0], "syn-step"))
			abort();
		struct flow_step step;
		struct flow_step_opts o;
		int others = 0;
		flow_step_init(&step);
		if (flow_step_parse(st->argc, st->argv, &step, &o, other, &others) == 0 && !step.name)
			abort();
		flow_step_free(&step);
	}
	flow_script_free(&s);
	return 0;
}
