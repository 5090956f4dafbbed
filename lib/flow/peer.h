/* peer: where a stage sits in its pipeline, and what runs it, from /proc.
 *
 * A stage needs to know two things its options do not say:
 *   - whether another syn-step reads what it writes: if none does, it is
 *     the workflow's last stage, and a run it passes on is completed;
 *   - which workflow file runs it (to record with the runs it starts, so
 *     that syn-run can drive them again).
 * Linux tells both. The reader of a pipe is the process holding its read
 * end: a stage looks at its siblings (the children of the shell that runs
 * the pipeline) and, failing those, every process of its user, for one
 * holding its stdout's pipe open for reading (/proc/PID/fd, whose link's
 * mode says read or write), and looks at that process's executable. A
 * reader that is still a shell (forked, not yet exec'd) is looked at
 * again a moment later. The same walk finds a sibling stage of the same
 * pipeline (same parent and process group) with the same step name. The
 * workflow file is the script the parent shell runs: the first argument
 * of its command line that names an executable regular file.
 */
#ifndef PANIC_FLOW_PEER_H
#define PANIC_FLOW_PEER_H

#include <stddef.h>
#include <sys/types.h>

struct flow_peers {
	int downstream; /* 1: a syn-step reads stdout; 0: none does; -1: not known yet */
	pid_t dup;      /* a sibling stage with the same step name, or 0 */
};

/* Looks for the reader of fd 1 and for a sibling stage named NAME (or
 * none, if NAME is NULL), waiting up to WAIT_MS for a reader that is still
 * a shell to become a program. 0, or -1 with err_msg() (no /proc). */
int flow_peers_scan(const char *name, int wait_ms, struct flow_peers *out);
/* The absolute path of the workflow file the parent process runs, in BUF
 * (SIZE bytes): 0, or -1 if the parent is not running one. */
int flow_parent_script(char *buf, size_t size);

#endif
