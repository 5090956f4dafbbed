/* llm: the built-in "llm" ability's pure parts: the prompt template filled
 * from the payload, and the call's options from the agent's llm_config.
 *
 * A template's {{FIELD}} is the payload's field FIELD (a path: {{doc.title}}),
 * a string as it is and anything else as compact JSON; {{.}} is the whole
 * payload. A field the payload lacks is an error, not an empty string.
 *
 * jv ownership: parameters are borrowed.
 */
#ifndef PANIC_AGENT_LLM_H
#define PANIC_AGENT_LLM_H

#include <jv.h>

struct agent;
struct resp;
struct call_opts;

/* TPL filled from PAYLOAD, malloc'd; NULL with err_msg(). */
char *agent_template(const char *tpl, jv payload);
/* The prompt for responsibility R of A: prompts[R's task], else
 * prompts["default"], filled; NULL with err_msg(). */
char *agent_llm_prompt(const struct agent *a, const struct resp *r, jv payload);
/* O from the llm_config LLM: system (base_prompt_override), base_url,
 * key_env (api_key_env_var), temperature, max_tokens. The strings are
 * LLM's: keep it while O is used. */
void agent_llm_opts(jv llm, struct call_opts *o);

#endif
