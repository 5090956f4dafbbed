/* mustache: VBML's props, rendered as mustache.js 4 renders them.
 *
 * Private to lib/vesta. vbml.parse runs each template through
 * mustache.render(template, props) before laying it out, so a VBML record
 * with props gets variables ({{name}}, escaped for HTML as mustache.js
 * does; {{{name}}} and {{&name}} not), dotted names, sections and inverted
 * sections over lists, objects and truthy values, comments, set
 * delimiters, and the spec's removal of lines that hold only a standalone
 * tag. Partials render as nothing (VBML gives none). Values are JSON, so
 * there are no lambdas; numbers are written as JavaScript writes them.
 *
 * jv ownership: VIEW is borrowed.
 */
#ifndef PANIC_VESTA_MUSTACHE_H
#define PANIC_VESTA_MUSTACHE_H

#include <jv.h>

#include "vesta/u16.h"

/* Appends template T rendered with VIEW to OUT; -1 with err_msg() for a
 * template mustache.js refuses (an unclosed tag or section). */
int mustache_render(const struct u16 *t, jv view, struct u16 *out);
/* JavaScript's String(X) of a number, into BUF (at least 32 bytes). */
char *mustache_jsnum(double x, char *buf);

#endif
