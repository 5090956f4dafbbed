/* platform_gemini: Google's Gemini generateContent (DESIGN.md §5).
 *
 * POST /models/NAME:generateContent with the key in x-goog-api-key (never
 * in the URL). A text input is the prompt. An image or audio input is a
 * URL: it is fetched (or decoded, for a data: URL) and sent inline as
 * base64 with its MIME type, beside the entry's "prompt". The call's
 * system prompt, temperature, max tokens and JSON schema map to
 * systemInstruction and generationConfig. The output is the text parts of
 * the first candidate; a prompt or answer blocked for safety fails with
 * kind refused. Key: GEMINI_API_KEY; base URL: GEMINI_BASE_URL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "model.h"
#include "remote.h"

#define GEMINI_BASE "https://generativelanguage.googleapis.com/v1beta"
#define INLINE_MAX (20u << 20)

struct gem {
	struct http_req req;
};

static int check(jv entry)
{
	return remote_check(entry);
}

static void release(struct call *c)
{
	struct gem *g = c->priv;
	if (!g)
		return;
	http_cancel(&g->req); /* if in flight; frees what it holds */
	free(g);
	c->priv = NULL;
}

/* The MIME type of media at URL, from the server's TYPE or the name. */
static const char *mime(const char *url, const char *type)
{
	static const char *const ext[][2] = {
		{ ".png", "image/png" },   { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
		{ ".webp", "image/webp" }, { ".gif", "image/gif" },  { ".mp3", "audio/mpeg" },
		{ ".wav", "audio/wav" },   { ".ogg", "audio/ogg" },  { ".flac", "audio/flac" },
		{ ".m4a", "audio/mp4" },   { ".aac", "audio/aac" },
	};
	static char t[96];
	if (type && *type && strncmp(type, "application/octet-stream", 24)) {
		snprintf(t, sizeof t, "%.*s", (int)strcspn(type, "; "), type);
		return t;
	}
	size_t n = strcspn(url, "?#");
	for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
		size_t k = strlen(ext[i][0]);
		if (n > k && !strncasecmp(url + n - k, ext[i][0], k))
			return ext[i][1];
	}
	return "application/octet-stream";
}

static void on_answer(struct http_req *q);

/* Asks the model, with media (MIME, base64 DATA; consumed) if any. */
static void generate(struct call *c, const char *type, jv data)
{
	struct gem *g = c->priv;
	const struct call_opts *op = c->opts;
	jv parts = jv_array();
	if (jv_is_valid(data)) {
		parts = jv_array_append(parts, json_set(jv_object(), "text",
		                                        jv_string(remote_str(c, "prompt",
		                                                             "Describe this."))));
		jv in = json_set(json_set(jv_object(), "mime_type", jv_string(type)), "data", data);
		parts = jv_array_append(parts, json_set(jv_object(), "inline_data", in));
	} else {
		parts = jv_array_append(parts, json_set(jv_object(), "text", jv_copy(c->input)));
	}
	jv body = json_set(jv_object(), "contents",
	                   jv_array_append(jv_array(),
	                                   json_set(json_set(jv_object(), "role", jv_string("user")),
	                                            "parts", parts)));
	const char *sys = op && op->system ? op->system : remote_str(c, "system", NULL);
	if (sys)
		body = json_set(body, "systemInstruction",
		                json_set(jv_object(), "parts",
		                         jv_array_append(jv_array(), json_set(jv_object(), "text",
		                                                              jv_string(sys)))));
	jv gc = jv_object();
	if (op && op->temperature >= 0)
		gc = json_set(gc, "temperature", jv_number(op->temperature));
	if (op && op->max_tokens > 0)
		gc = json_set(gc, "maxOutputTokens", jv_number((double)op->max_tokens));
	if (op && jv_get_kind(op->schema) == JV_KIND_OBJECT) {
		gc = json_set(gc, "responseMimeType", jv_string("application/json"));
		gc = json_set(gc, "responseSchema", jv_copy(op->schema));
	}
	if (jv_object_length(jv_copy(gc)) > 0)
		body = json_set(body, "generationConfig", gc);
	else
		jv_free(gc);
	char path[600];
	snprintf(path, sizeof path, "/models/%s:generateContent", remote_name(c));
	if (remote_request(c, &g->req, "GEMINI_BASE_URL", GEMINI_BASE, path, "GEMINI_API_KEY",
	                   "x-goog-api-key", body) < 0) {
		release(c);
		return;
	}
	g->req.on_done = on_answer;
	g->req.user = c;
	http_start(&g->req);
}

static void on_answer(struct http_req *q)
{
	struct call *c = q->user;
	jv v = remote_answer(c, q);
	if (!jv_is_valid(v))
		return;
	jv um = json_get(v, "usageMetadata");
	jv_free(c->usage);
	c->usage = remote_usage(json_get(um, "promptTokenCount"),
	                        json_get(um, "candidatesTokenCount"));
	jv_free(um);
	jv pf = json_get(v, "promptFeedback");
	const char *blocked = json_str(pf, "blockReason", NULL);
	char why[300];
	if (blocked) {
		snprintf(why, sizeof why, "the prompt was blocked (%s)", blocked);
		jv_free(pf);
		jv_free(v);
		remote_give_up(c, "refused", why);
		return;
	}
	jv_free(pf);
	jv c0 = json_first(v, "candidates");
	jv_free(v);
	const char *reason = json_str_or(c0, "finishReason", "");
	jv content = json_get(c0, "content");
	jv parts = json_get(content, "parts");
	jv_free(content);
	jv text = jv_string("");
	int any = 0;
	if (jv_get_kind(parts) == JV_KIND_ARRAY) {
		jv_array_foreach(parts, i, p) {
			(void)i;
			jv t = json_get(p, "text");
			if (jv_get_kind(t) == JV_KIND_STRING) {
				text = jv_string_concat(text, t);
				any = 1;
			} else {
				jv_free(t);
			}
			jv_free(p);
		}
	}
	jv_free(parts);
	if (!any) {
		int safety = !strcmp(reason, "SAFETY") || !strcmp(reason, "PROHIBITED_CONTENT") ||
		             !strcmp(reason, "BLOCKLIST") || !strcmp(reason, "SPII");
		snprintf(why, sizeof why, "no text in the answer%s%s%s", *reason ? " (" : "",
		         reason, *reason ? ")" : "");
		jv_free(c0);
		jv_free(text);
		remote_give_up(c, safety ? "refused" : "bad_response", why);
		return;
	}
	jv_free(c0);
	const struct call_opts *op = c->opts;
	if (op && op->on_delta) /* no streaming here: the whole text at once */
		op->on_delta(c, jv_string_value(text), (size_t)jv_string_length_bytes(jv_copy(text)));
	call_done(c, text);
	release(c);
}

static void on_media(struct http_req *q)
{
	struct call *c = q->user;
	if (q->kind) {
		char why[400];
		snprintf(why, sizeof why, "fetching the input: %s", q->msg);
		remote_give_up(c, q->kind, why);
		return;
	}
	if (q->resplen > INLINE_MAX) {
		remote_give_up(c, "bad_response", "the input is larger than 20 MB, too large to send inline");
		return;
	}
	char *b = remote_base64(q->resp ? q->resp : "", q->resplen);
	char type[96];
	snprintf(type, sizeof type, "%s", mime(jv_string_value(c->input), q->ctype));
	http_free(q);
	if (!b) {
		remote_give_up(c, "canceled", "out of memory");
		return;
	}
	jv data = jv_string(b);
	free(b);
	generate(c, type, data);
}

static void start(struct call *c)
{
	struct gem *g = calloc(1, sizeof *g);
	if (!g) {
		call_fail(c, "canceled", "out of memory");
		return;
	}
	c->priv = g;
	const char *in = jv_string_value(c->input);
	if (c->model->input == MT_TEXT) {
		generate(c, NULL, jv_invalid());
		return;
	}
	if (!strncmp(in, "data:", 5)) { /* data:TYPE;base64,DATA */
		const char *comma = strchr(in, ',');
		if (!comma || !strstr(in, ";base64")) {
			remote_give_up(c, "bad_response", "the input is a data: URL without base64 data");
			return;
		}
		char type[96];
		snprintf(type, sizeof type, "%.*s", (int)strcspn(in + 5, ";,"), in + 5);
		generate(c, type, jv_string(comma + 1));
		return;
	}
	if (strncmp(in, "http://", 7) && strncmp(in, "https://", 8)) {
		remote_give_up(c, "bad_response", "the input is not an http(s) or data: URL");
		return;
	}
	memset(&g->req, 0, sizeof g->req);
	g->req.url = strdup(in);
	if (!g->req.url) {
		remote_give_up(c, "canceled", "out of memory");
		return;
	}
	g->req.timeout_ms = c->timeout_ms;
	g->req.max_attempts = c->opts ? c->opts->attempts : 0;
	g->req.on_done = on_media;
	g->req.user = c;
	http_start(&g->req);
}

const struct platform platform_gemini = {
	.name = "gemini",
	.check = check,
	.start = start,
	.fds = NULL,
	.step = NULL,
	.cancel = release,
	.model_free = remote_model_free,
	.shared_fds = http_fds,
	.shared_step = http_step,
};
