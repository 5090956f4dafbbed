/* platform_gemini: Google's Gemini generateContent (DESIGN.md §5).
 *
 * POST /models/NAME:generateContent with the key in x-goog-api-key (never
 * in the URL), or :streamGenerateContent?alt=sse when the call streams.
 * A text input is the prompt. An image or audio input is a URL: it is
 * fetched (or decoded, for a data: URL) and sent inline as base64 with its
 * MIME type, beside the entry's "prompt". The call's system prompt,
 * temperature, max tokens and JSON schema map to systemInstruction and
 * generationConfig, and its tools to functionDeclarations: a functionCall
 * in the answer runs the tool (lib/toolrun) and its functionResponse goes
 * back. The output is the text parts of the first candidate; a prompt or
 * answer blocked for safety fails with kind refused. Key: GEMINI_API_KEY;
 * base URL: GEMINI_BASE_URL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "http/sse.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "model/remote.h"
#include "model/toolrun.h"

#define GEMINI_BASE "https://generativelanguage.googleapis.com/v1beta"
#define INLINE_MAX (20u << 20)

struct gem {
	struct http_req req;
	jv contents;   /* the conversation */
	struct remote_tokens tokens;
	/* streaming: what the events so far add up to */
	struct sse sse;
	jv text;       /* the text parts */
	jv calls;      /* the functionCall parts */
	jv last;       /* usageMetadata, promptFeedback and finishReason seen */
	struct toolrun tools;
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
	toolrun_free(&g->tools);
	sse_free(&g->sse);
	jv_free(g->contents);
	jv_free(g->text);
	jv_free(g->calls);
	jv_free(g->last);
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

static void on_done(struct http_req *q);
static int on_sse(struct http_req *q, const char *p, size_t n);

static jv text_part(jv text)
{
	return json_set(jv_object(), "text", text);
}

/* Asks the model about the conversation so far. */
static void ask(struct call *c)
{
	struct gem *g = c->priv;
	const struct call_opts *op = c->opts;
	jv body = json_set(jv_object(), "contents", jv_copy(g->contents));
	const char *sys = op && op->system ? op->system : remote_str(c, "system", NULL);
	if (sys)
		body = json_set(body, "systemInstruction",
		                json_set(jv_object(), "parts",
		                         jv_array_append(jv_array(), text_part(jv_string(sys)))));
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
	if (op && op->ntools > 0) {
		jv decls = jv_array();
		for (int i = 0; i < op->ntools; i++)
			decls = jv_array_append(decls, toolrun_declaration(&op->tools[i],
			                                                   "parametersJsonSchema"));
		body = json_set(body, "tools",
		                jv_array_append(jv_array(), json_set(jv_object(),
		                                                     "functionDeclarations", decls)));
	}
	int stream = op && op->stream;
	sse_free(&g->sse);
	jv_free(g->text);
	jv_free(g->calls);
	jv_free(g->last);
	g->text = jv_string("");
	g->calls = jv_array();
	g->last = jv_object();
	char path[600];
	snprintf(path, sizeof path, "/models/%s:%s", remote_name(c),
	         stream ? "streamGenerateContent?alt=sse" : "generateContent");
	if (remote_request(c, &g->req, "GEMINI_BASE_URL", GEMINI_BASE, path, "GEMINI_API_KEY",
	                   "x-goog-api-key", body) < 0) {
		release(c);
		return;
	}
	g->req.on_data = stream ? on_sse : NULL;
	g->req.on_done = on_done;
	g->req.user = c;
	http_start(&g->req);
}

/* Begins the conversation, with media (MIME, base64 DATA; consumed) if any. */
static void generate(struct call *c, const char *type, jv data)
{
	struct gem *g = c->priv;
	jv parts = jv_array();
	if (jv_is_valid(data)) {
		parts = jv_array_append(parts, text_part(jv_string(remote_str(c, "prompt",
		                                                              "Describe this."))));
		jv in = json_set(json_set(jv_object(), "mime_type", jv_string(type)), "data", data);
		parts = jv_array_append(parts, json_set(jv_object(), "inline_data", in));
	} else {
		parts = jv_array_append(parts, text_part(jv_copy(c->input)));
	}
	g->contents = jv_array_append(jv_array(),
	                              json_set(json_set(jv_object(), "role", jv_string("user")),
	                                       "parts", parts));
	ask(c);
}

/* One streamed event: a GenerateContentResponse with the next parts. */
static int on_event(void *user, const char *type, const char *data, size_t n)
{
	(void)type;
	struct call *c = user;
	struct gem *g = c->priv;
	jv ev = remote_event(&g->req, data, n);
	if (!jv_is_valid(ev))
		return -1;
	static const char *const keep[] = { "usageMetadata", "promptFeedback" };
	for (int i = 0; i < 2; i++) {
		jv v = json_get(ev, keep[i]);
		if (jv_get_kind(v) == JV_KIND_OBJECT)
			g->last = json_set(g->last, keep[i], v);
		else
			jv_free(v);
	}
	jv c0 = json_first(ev, "candidates");
	jv_free(ev);
	jv fr = json_get(c0, "finishReason");
	if (jv_get_kind(fr) == JV_KIND_STRING)
		g->last = json_set(g->last, "finishReason", fr);
	else
		jv_free(fr);
	jv content = json_get(c0, "content");
	jv parts = json_get(content, "parts");
	jv_free(content);
	jv_free(c0);
	if (jv_get_kind(parts) == JV_KIND_ARRAY) {
		jv_array_foreach(parts, i, p) {
			(void)i;
			jv t = json_get(p, "text");
			if (jv_get_kind(t) == JV_KIND_STRING) {
				g->text = remote_delta(c, g->text, t);
				jv_free(p);
			} else {
				jv_free(t);
				g->calls = jv_array_append(g->calls, p);
			}
		}
	}
	jv_free(parts);
	return 0;
}

static int on_sse(struct http_req *q, const char *p, size_t n)
{
	struct call *c = q->user;
	struct gem *g = c->priv;
	return sse_feed(&g->sse, p, n, on_event, c);
}

/* The streamed events put together as one answer. */
static jv streamed(struct gem *g)
{
	jv parts = jv_copy(g->calls);
	if (jv_string_length_bytes(jv_copy(g->text)))
		parts = jv_array_concat(jv_array_append(jv_array(), text_part(jv_copy(g->text))),
		                        parts);
	jv c0 = json_set(json_set(jv_object(), "content",
	                          json_set(json_set(jv_object(), "role", jv_string("model")),
	                                   "parts", parts)),
	                 "finishReason", json_get(g->last, "finishReason"));
	jv v = json_set(jv_copy(g->last), "candidates", jv_array_append(jv_array(), c0));
	return v;
}

static void run_tools(struct call *c);

/* The model's answer V (consumed): text, tool calls, or a refusal. */
static void answer(struct call *c, jv v)
{
	struct gem *g = c->priv;
	jv um = json_get(v, "usageMetadata");
	remote_tokens_add(&g->tokens, json_get(um, "promptTokenCount"),
	                  json_get(um, "candidatesTokenCount"));
	jv_free(um);
	remote_tokens_put(&g->tokens, c);
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
	jv text = jv_string(""), calls = jv_array();
	int any = 0;
	if (jv_get_kind(parts) == JV_KIND_ARRAY) {
		jv_array_foreach(parts, i, p) {
			(void)i;
			jv t = json_get(p, "text"), f = json_get(p, "functionCall");
			if (jv_get_kind(t) == JV_KIND_STRING) {
				text = jv_string_concat(text, t);
				any = 1;
			} else {
				jv_free(t);
			}
			if (jv_get_kind(f) == JV_KIND_OBJECT) {
				jv args = json_get(f, "args");
				if (jv_get_kind(args) != JV_KIND_OBJECT) {
					jv_free(args);
					args = jv_object();
				}
				size_t len;
				char *txt = json_dump(args, &len);
				jv_free(args);
				jv call = json_set(json_set(jv_object(), "name", json_get(f, "name")),
				                   "id", json_get(f, "id"));
				call = json_set(call, "arguments",
				                txt ? jv_string_sized(txt, (int)len) : jv_string("{}"));
				free(txt);
				calls = jv_array_append(calls, call);
			}
			jv_free(f);
			jv_free(p);
		}
	}
	jv_free(parts);
	if (jv_array_length(jv_copy(calls)) > 0 && c->opts && c->opts->ntools > 0) {
		g->contents = jv_array_append(g->contents, content);
		jv_free(c0);
		jv_free(text);
		if (toolrun_begin(&g->tools, c, calls) < 0) {
			remote_give_up(c, "bad_response", err_msg());
			return;
		}
		run_tools(c);
		return;
	}
	jv_free(calls);
	jv_free(content);
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
	remote_done(c, text);
}

static void on_done(struct http_req *q)
{
	struct call *c = q->user;
	struct gem *g = c->priv;
	if (!q->kind && q->on_data) {
		sse_end(&g->sse, on_event, c);
		if (!q->kind) {
			if (!json_has(g->last, "finishReason") && !json_has(g->last, "promptFeedback")) {
				remote_give_up(c, "bad_response", "the stream ended before a finishReason");
				return;
			}
			http_free(q);
			answer(c, streamed(g));
			return;
		}
	}
	jv v = remote_answer(c, q);
	if (jv_is_valid(v))
		answer(c, v);
}

/* Runs the round's tools; when all have answered, asks again. */
static void run_tools(struct call *c)
{
	struct gem *g = c->priv;
	if (!toolrun_go(&g->tools, c))
		return; /* fds() and step() drive it */
	jv parts = jv_array();
	jv_array_foreach(g->tools.answers, i, answer) {
		jv tc = jv_array_get(jv_copy(g->tools.calls), i);
		jv r = json_set(jv_object(), "name", json_get(tc, "name"));
		jv id = json_get(tc, "id");
		if (jv_get_kind(id) == JV_KIND_STRING)
			r = json_set(r, "id", id);
		else
			jv_free(id);
		r = json_set(r, "response", json_set(jv_object(), "output", answer));
		parts = jv_array_append(parts, json_set(jv_object(), "functionResponse", r));
		jv_free(tc);
	}
	g->contents = jv_array_append(g->contents,
	                              json_set(json_set(jv_object(), "role", jv_string("user")),
	                                       "parts", parts));
	ask(c);
}

static int fds(struct call *c, struct pollfd *p, int max, int64_t *deadline)
{
	struct gem *g = c->priv;
	return g ? toolrun_fds(&g->tools, p, max, deadline) : 0;
}

static void step(struct call *c, struct pollfd *p, int n, int64_t now)
{
	struct gem *g = c->priv;
	if (g && toolrun_step(&g->tools, c, p, n, now))
		run_tools(c);
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
		remote_give_up(c, "cancelled", "out of memory");
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
		call_fail(c, "cancelled", "out of memory");
		return;
	}
	c->priv = g;
	g->contents = g->text = g->calls = g->last = jv_invalid();
	sse_init(&g->sse);
	toolrun_init(&g->tools);
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
		remote_give_up(c, "cancelled", "out of memory");
		return;
	}
	/* A download that carries no key may follow redirects (CDNs do). */
	remote_bound(c, &g->req);
	g->req.follow = 1;
	g->req.on_done = on_media;
	g->req.user = c;
	http_start(&g->req);
}

const struct platform platform_gemini = {
	.name = "gemini",
	.check = check,
	.start = start,
	.fds = fds,
	.step = step,
	.cancel = release,
	.model_free = remote_model_free,
	.shared_fds = http_fds,
	.shared_step = http_step,
	.tools = 1,
};
