/* chain: a run taken on from the step it waits at, by stages run in this
 * process, without the workflow's shell (syn-run resume).
 *
 * Driving a workflow file starts every stage of its pipeline, and each
 * replays the steps before the one the run waits at from the journal: a
 * fixed cost of a process per step. When the file is one plain pipeline
 * of syn-steps (script.h), the stages it would start are known, each
 * exactly as the shell would start it, and the run's record as it reaches
 * the waiting step is known too: its input merged with the journalled
 * result of each step before it, in the pipeline's order, as those stages
 * would replay it. So a plan starts at the waiting step: the steps before
 * it are not started at all, and nothing of theirs runs. From there each
 * stage is the library's stage (stage.h), the same code syn-step runs,
 * taking the record, committing its journal before the record goes on to
 * the next, as across a pipe.
 *
 * A plan is refused (NULL or -1, and why, for -v) when the file is not plain,
 * when its syn-step is not the one beside this program (PATH finds
 * another), when a stage has options of its own that syn-step would take
 * from its command line only (--db, --bus, -R, --json, --max-line, -q,
 * -v, -h, --version) or that it would refuse, when a step name is used
 * twice, when the waiting step is not in the file, when a step before it
 * has no completed or skipped row (it would run, not replay), or when a
 * model or its catalogue is not found. The caller then drives the file as
 * before, which reports such errors as it always did.
 *
 * Commands of the steps see the environment a stage would give them:
 * SYN_WORKFLOW and SYN_STEPS are set in this process's environment (only
 * what the shell itself adds, such as PWD and SHLVL, may differ). Their
 * jq programs are compiled together, once (flow_jqset_compile), on a
 * thread the plan starts as soon as its stages are known, so that the
 * caller can store the answer in the meantime (that commit waits on the
 * disk; the compile on the CPU); the run waits for it at its first stage
 * with a jq program (the stages before it run meanwhile), freeing the
 * plan before that.
 *
 * jv ownership: borrowed.
 */
#ifndef PANIC_FLOW_CHAIN_H
#define PANIC_FLOW_CHAIN_H

#include <jv.h>
#include <stddef.h>

struct bus;
struct db;
struct flow_chain;

/* A plan for a run of workflow FILE (its real path) waiting at step
 * WAITING, STEP_BIN the real path of the syn-step this program comes
 * with: its stages read, their jq programs compiling. NULL if it cannot be
 * run so (WHY says why), or with err_msg() set and WHY empty on a system
 * error (out of memory). */
struct flow_chain *flow_chain_plan(const char *file, const char *waiting, const char *step_bin,
                                   char *why, size_t size);

/* Completes plan C for run ID: INPUT the run's input, JOURNAL its journal
 * rows (db_flow_steps). 0; or -1 if it cannot be run so (WHY says why), or
 * with err_msg() set and WHY empty on a system error. Either way the
 * caller frees C, and on -1 drives the file instead. */
int flow_chain_replay(struct flow_chain *c, const char *id, jv input, jv journal, char *why,
                      size_t size);

/* The real path of the syn-step beside this program (/proc/self/exe) in
 * BUF: 0, or -1 (none there). */
int flow_chain_step_bin(char *buf, size_t size);

struct flow_chain_cfg {
	struct db *db;
	struct bus *bus;          /* or NULL */
	int sigfd;                /* a signalfd to stop on, or -1 */
	/* What a stage's user hears of (stage_cfg.note). */
	void (*note)(void *ctx, int level, const char *msg);
	int verbose;
	/* Each record out of the last stage, without its newline. */
	void (*line)(const char *s, size_t n, void *ctx);
	void *ctx;
};

/* Runs the plan: 0; or -1 with err_msg() (a state error, or stopped by a
 * signal: *SIGNO then its number). What was committed stays committed:
 * a stage stopped by a signal journals nothing for what was in flight. */
int flow_chain_run(struct flow_chain *c, const struct flow_chain_cfg *cfg, int *signo);
/* How many steps the plan starts with (the waiting one and those after). */
int flow_chain_steps(const struct flow_chain *c);
void flow_chain_free(struct flow_chain *c);

#endif
