/* agentform: an agent's edit form, and the agent object it holds. Private
 * to lib/web (agents.c).
 *
 * Fields, named as the agent's: name and concurrency (text; concurrency
 * empty is null, agent-run's default), status (a choice), abilities and
 * responsibilities (a text area, one a line, as agent-ctl -a and -r take
 * them: a line starting with '{' is a JSON object), llm_config, prompts
 * and retry_policy (JSON text areas). A text area that is not JSON is an
 * error of its field ("llm_config: not JSON: ..."); everything else is
 * checked by agent_errors (lib/agent/spec.h) and shown next to its field.
 *
 * jv ownership: parameters are borrowed; returned jv are the caller's.
 */
#ifndef PANIC_WEB_AGENTFORM_H
#define PANIC_WEB_AGENTFORM_H

#include <jv.h>

struct html;
struct web_req;

/* BASE (the agent as it is, or {} for a new one) with the fields of REQ's
 * form applied; *ERRORS gets an array of the errors of fields that do not
 * parse ([] if none). */
jv agentform_read(struct web_req *req, jv base, jv *errors);
/* The form of AGENT (an object as agent-ctl show prints it) posting to
 * ACTION, with VALUES (the form as sent, {field: text}, or null) shown in
 * place of AGENT's and ERRORS next to their fields. */
void agentform_put(struct web_req *req, struct html *h, const char *action, jv agent, jv values,
                   jv errors);
/* S without CRs (a browser ends a text area's lines with CRLF). */
jv agentform_text(const char *s);
/* The form as sent: {field: text} of the fields REQ's form has. */
jv agentform_values(struct web_req *req);

#endif
