/* html: building pages: a growing buffer, escaping, and the templates
 * under share/panic/web/ (with their compiled-in fallback).
 *
 * Everything from outside (model output, prompts, names) goes into a page
 * through html_esc() or a {{name}} of a template, never raw.
 */
#ifndef PANIC_WEB_HTML_H
#define PANIC_WEB_HTML_H

#include <stddef.h>

struct html {
	char *s;
	size_t n, cap;
	int oom;
};

void html_init(struct html *h);
void html_free(struct html *h);
void html_put(struct html *h, const char *s, size_t n);
void html_puts(struct html *h, const char *s);
void html_printf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* S escaped for text and attribute values: & < > " ' become entities;
 * invalid UTF-8 and control characters (but tab and newline) become
 * U+FFFD. */
void html_esc(struct html *h, const char *s);
void html_escn(struct html *h, const char *s, size_t n);
/* S escaped, malloc'd (NULL if out of memory). */
char *html_escape(const char *s);

/* Template NAME (a file of share/panic/web/, as "display.html") with each
 * {{key}} replaced by the escaped value of KEY in VARS (NULL-terminated
 * key, value pairs) and each {{{key}}} by the value as it is (HTML this
 * program made). An unknown key becomes "". -1 with err_msg() if there is
 * no such template. */
struct web_req;
int html_template(struct web_req *req, struct html *h, const char *name,
                  const char *const vars[]);

#endif
