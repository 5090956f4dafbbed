/* replay: the replay decision; see replay.h. */
#include <string.h>

#include "flow/replay.h"

static int is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

enum flow_action flow_decide(const struct flow_seen *s)
{
	if (is(s->state, "completed") || is(s->state, "skipped"))
		return FA_REPLAY;
	if (is(s->status, "stopped"))
		return FA_PASS;
	if (is(s->status, "failed") && !s->state)
		return FA_PASS;
	if (is(s->state, "failed") || is(s->state, "resumed"))
		return FA_RUN;
	if (is(s->state, "suspended") || is(s->status, "waiting_for_human"))
		return FA_HOLD;
	if (s->skipping && !s->is_at)
		return FA_SKIP;
	return FA_RUN;
}

const char *flow_action_name(enum flow_action a)
{
	static const char *const n[] = { "run", "replay", "skip", "hold", "pass" };
	return n[a];
}
