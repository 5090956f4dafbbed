/* stepargs: a syn-step stage's command line, parsed into its step.
 *
 * Shared by syn-step (its own arguments) and syn-run (the stages of a
 * workflow it runs itself, script.h), so both read a stage alike.
 *
 * The parser uses getopt_long, so it resets optind; whether getopt prints
 * its own message for an unknown option is the caller's opterr. Options
 * not of a step (the common ones of cli/prog.h: -q, -v, -h, --db, --bus,
 * -R, --json, --max-line, --version, and getopt's '?' and ':') go to the
 * caller's OTHER(c, optarg, ctx), in order.
 *
 * jv ownership: the step owns its jv fields; its strings point into ARGV,
 * which must outlive it (--tool and --scorer's NAME=PROGRAM are split in
 * place).
 */
#ifndef PANIC_FLOW_STEPARGS_H
#define PANIC_FLOW_STEPARGS_H

#include "flow/step.h"

struct flow_step_opts {
	const char *workflow; /* --workflow, or NULL */
	const char *models;   /* --models, or NULL */
	int last;             /* --last: 1, else -1 (find out) */
	int fresh;            /* --fresh */
};

/* Parses ARGV (ARGV[0] the program, ARGV[1] the step's NAME) into ST (from
 * flow_step_init) and O: 0, or -1 with err_msg() (a usage error). */
int flow_step_parse(int argc, char **argv, struct flow_step *st, struct flow_step_opts *o,
                    void (*other)(int c, const char *arg, void *ctx), void *ctx);
/* The workflow of a stage: OPT (--workflow), else $SYN_WORKFLOW. A value
 * with a '/' is a file (*FILE its real path, *NAME its base name); one
 * without is a name (*FILE NULL); none is a pipeline typed on the command
 * line (both NULL). Both malloc'd. */
void flow_step_workflow(const char *opt, char **name, char **file);

#endif
