/* template: a prompt built from a run's context.
 *
 * "{{PATH}}" in the template is replaced by the value at PATH in the
 * context: PATH is a field name, or names and array indexes joined by dots
 * ("request", "plan.title", "items.0"), with optional spaces inside the
 * braces. A string is put in as it is; any other value as compact JSON
 * (as jq's string interpolation does). A path that is not there is an
 * error, as is a "{{" that does not open a placeholder. Pure.
 *
 * jv ownership: CTX is borrowed.
 */
#ifndef PANIC_FLOW_TEMPLATE_H
#define PANIC_FLOW_TEMPLATE_H

#include <jv.h>

/* The filled template as a jv string, or jv_invalid() with err_msg(). */
jv flow_fill(const char *tmpl, jv ctx);
/* 0 if TMPL's placeholders are well formed, else -1 with err_msg(). */
int flow_fill_check(const char *tmpl);

#endif
