/* agenti: what the files of lib/agent share.
 *
 * Private to lib/agent.
 */
#ifndef PANIC_AGENT_AGENTI_H
#define PANIC_AGENT_AGENTI_H

#include <jv.h>

struct resp;
struct agent;
struct agent_lookup;

/* Responsibility V (borrowed) of agent A (its abilities already set). */
int agenti_resp(struct resp *r, jv v, const struct agent *a, const struct agent_lookup *lk);
void agenti_resp_free(struct resp *r);

#endif
