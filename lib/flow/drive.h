/* drive: syn-run's side of a workflow file: finding it, describing it and
 * driving runs through it.
 *
 * A workflow is an executable file whose stages are syn-steps. WORKFLOW
 * with a '/' is that file; a bare name is looked for, as a command in
 * PATH, in each directory of $SYN_PATH (colon-separated), by default
 * ${XDG_CONFIG_HOME:-~/.config}/panic/workflows and the installed
 * share/panic/workflows beside the program. The file must be a regular,
 * executable file (a symbolic link to one is followed, as PATH does).
 *
 * Describing runs the file with SYN_DESCRIBE=1 and nothing on stdin:
 * every syn-step then only passes on the descriptions of the stages before
 * it and adds its own, so the pipeline's output is its steps in order,
 * and no step's command runs. Driving runs the file with records on its
 * stdin (a run's context and "_run") and SYN_WORKFLOW set to the file;
 * its stderr is passed through and its stdout handed back line by line.
 * Both kill the workflow's process group if a signal arrives on SIGFD or
 * it outlives its time.
 *
 * jv ownership: as each function says.
 */
#ifndef PANIC_FLOW_DRIVE_H
#define PANIC_FLOW_DRIVE_H

#include <jv.h>
#include <stddef.h>

/* The absolute path of workflow ARG in BUF (SIZE bytes): 0, or -1 with
 * err_msg() (not found, not a regular file, not executable). */
int flow_find(const char *arg, char *buf, size_t size);
/* The steps of workflow FILE, in order: an array of descriptions, or
 * jv_invalid() with err_msg() (it failed, printed something else, or
 * names a step twice); an invalid with a message when one of its stages
 * cannot start (bad options, an unknown model), which running it would
 * not mend. */
jv flow_describe(const char *file, int sigfd);
/* Runs workflow FILE with the N bytes at INPUT on its stdin; LINE gets
 * each line of its stdout (without the newline). STEPS (or NULL), the
 * names of its steps in order, space-separated, goes to the stages as
 * $SYN_STEPS: each then knows whether it is the last and whether its name
 * is used twice without looking at /proc. Returns the workflow's exit
 * status (as waitpid gives it), or -1 with err_msg(). */
int flow_drive(const char *file, const char *steps, const char *input, size_t n, int sigfd,
               void (*line)(const char *s, size_t n, void *ctx), void *ctx);
/* The names of the steps of DESC, space-separated, malloc'd. */
char *flow_steps_env(jv desc);
/* The names of the steps of DESC (borrowed, from flow_describe), joined
 * by ", ", in BUF. */
void flow_step_names(jv desc, char *buf, size_t size);

#endif
