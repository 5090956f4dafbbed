/* peer: where a stage sits in a pipeline typed on the command line, from
 * /proc.
 *
 * A stage of a workflow file knows its steps from $SYN_STEPS (syn-run
 * sets it). A stage of a pipeline typed on the command line must find out
 * whether another syn-step reads what it writes: if none does, it is the
 * last stage, and a run it passes on is completed; and whether another
 * stage of its pipeline has its name. Linux tells both. The reader of a pipe is the process holding its read
 * end: a stage looks at its siblings (the children of the shell that runs
 * the pipeline) and, failing those, every process of its user, for one
 * holding its stdout's pipe open for reading (/proc/PID/fd, whose link's
 * mode says read or write), and looks at that process's executable. A
 * reader that is still a shell (forked, not yet exec'd) is looked at
 * again a moment later. The same walk finds a sibling stage of the same
 * pipeline (same parent and process group) with the same step name.
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

#endif
