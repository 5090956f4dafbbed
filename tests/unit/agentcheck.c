/* agentcheck: agent_errors (lib/agent/spec.h) case by case, for the table
 * test of tests/200-agent-ctl.bats: every field's error of an agent, as a
 * form shows them.
 *
 * Reads one agent (a JSON value) per line and writes {"errors": [...]}
 * per line. Abilities are looked up in the allow-list as agent-ctl looks
 * them up (its default directories and ABILITY_DIR, if set); models are
 * not checked (no catalogue).
 */
#include <stdio.h>
#include <stdlib.h>

#include "agent/spec.h"
#include "agent/world.h"
#include "base/err.h"
#include "json/json.h"

int main(void)
{
	struct agent_world w;
	char *dirs[1] = { getenv("ABILITY_DIR") };
	if (agent_world_init(&w, dirs, dirs[0] ? 1 : 0, NULL) < 0) {
		fprintf(stderr, "agentcheck: %s\n", err_msg());
		return 1;
	}
	char *line = NULL;
	size_t size = 0;
	ssize_t n;
	while ((n = getline(&line, &size, stdin)) > 0) {
		jv in = json_parse(line, (size_t)n);
		jv r = json_set(jv_object(), "errors", agent_errors(in, &w.lk));
		jv_free(in);
		json_write(stdout, r);
		jv_free(r);
	}
	free(line);
	agent_world_free(&w);
	return 0;
}
