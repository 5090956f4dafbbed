/* platform_openai: OpenAI's API and every server that speaks it (llama.cpp,
 * vLLM, Ollama) (DESIGN.md §5).
 *
 * By the model's types: text or image -> text is a chat completion
 * (POST /chat/completions; an image input goes in as an image_url part
 * with the entry's "prompt"), text -> image is POST /images/generations
 * (the answer's url, or its b64_json as a data: URL), text -> audio is
 * POST /audio/speech (a data: URL of the mp3). Key: OPENAI_API_KEY; base
 * URL: OPENAI_BASE_URL, as the official SDKs read them.
 *
 * A chat takes the call's options: system prompt, temperature, max
 * tokens, a JSON schema (response_format json_schema; the answer must then
 * parse as JSON), streaming (SSE: data lines, comments, CRLF, [DONE], an
 * error event, the usage chunk of stream_options.include_usage) and tools:
 * when the model answers with tool_calls, each tool runs as an exec model
 * (the arguments JSON on its stdin, its stdout the tool's answer), the
 * answers go back, and the model is asked again, up to tool_rounds times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "http/sse.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "model/remote.h"
#include "model/strict.h"
#include "model/toolrun.h"

#define OPENAI_BASE "https://api.openai.com/v1"

struct oai {
	struct http_req req;
	jv messages;   /* the conversation, for tool rounds */
	struct remote_tokens tokens;
	struct sse sse; /* streaming */
	jv text;       /* content so far */
	jv tool_calls; /* assembled from deltas */
	int done_seen;
	jv plain;      /* a stream asked for and a JSON answer given: its body */
	jv refusal;    /* streamed refusal text so far */
	char finish[24]; /* the last finish_reason */
	struct toolrun tools;
};

static int check(jv entry)
{
	if (remote_check(entry) < 0)
		return -1;
	const char *in = json_str_or(entry, "input", ""), *out = json_str_or(entry, "output", "");
	if (!strcmp(in, "audio"))
		return err_set("openai: audio input is not supported (try gemini)");
	if (strcmp(in, "text") && strcmp(out, "text"))
		return err_set("openai: %s -> %s is not supported", in, out);
	return 0;
}

static void release(struct call *c)
{
	struct oai *o = c->priv;
	if (!o)
		return;
	http_cancel(&o->req); /* if in flight; frees what it holds */
	toolrun_free(&o->tools);
	sse_free(&o->sse);
	jv_free(o->messages);
	jv_free(o->text);
	jv_free(o->tool_calls);
	jv_free(o->plain);
	jv_free(o->refusal);
	free(o);
	c->priv = NULL;
}

static void succeed(struct call *c, jv output)
{
	struct oai *o = c->priv;
	remote_tokens_put(&o->tokens, c);
	remote_done(c, output);
}

static void add_usage(struct oai *o, jv u)
{
	if (jv_get_kind(u) != JV_KIND_OBJECT) {
		jv_free(u);
		return;
	}
	/* chat: prompt_tokens/completion_tokens; images: input/output_tokens */
	static const char *const in[] = { "prompt_tokens", "input_tokens" },
	                         *const out[] = { "completion_tokens", "output_tokens" };
	for (int i = 0; i < 2; i++)
		remote_tokens_add(&o->tokens, json_get(u, in[i]), json_get(u, out[i]));
	jv_free(u);
}

static void chat_done(struct http_req *r);
static int on_sse(struct http_req *r, const char *p, size_t n);

static void send_chat(struct call *c)
{
	struct oai *o = c->priv;
	const struct call_opts *op = c->opts;
	jv b = jv_object();
	b = json_set(b, "model", jv_string(remote_name(c)));
	b = json_set(b, "messages", jv_copy(o->messages));
	if (op && op->temperature >= 0)
		b = json_set(b, "temperature", jv_number(op->temperature));
	/* OpenAI's reasoning models take only max_completion_tokens; some
	 * compatible servers want max_tokens (an entry's or profile's
	 * "max_tokens_field"). */
	if (op && op->max_tokens > 0)
		b = json_set(b, op->max_tokens_field ? op->max_tokens_field
		                                     : remote_str(c, "max_tokens_field",
		                                                  "max_completion_tokens"),
		             jv_number((double)op->max_tokens));
	if (op && jv_get_kind(op->schema) == JV_KIND_OBJECT) {
		/* Strict when the schema can be completed for it (strict.h). */
		jv strict = op->no_strict || remote_flag_false(c, "strict")
		                    ? jv_invalid()
		                    : strict_schema(jv_copy(op->schema));
		int is_strict = jv_is_valid(strict);
		jv js = json_set(json_set(jv_object(), "name", jv_string("output")), "schema",
		                 is_strict ? strict : jv_copy(op->schema));
		js = json_set(js, "strict", jv_bool(is_strict));
		b = json_set(b, "response_format",
		             json_set(json_set(jv_object(), "type", jv_string("json_schema")),
		                      "json_schema", js));
	}
	if (op && op->ntools > 0) {
		jv tools = jv_array();
		for (int i = 0; i < op->ntools; i++)
			tools = jv_array_append(
				tools, json_set(json_set(jv_object(), "type", jv_string("function")),
				                "function", toolrun_declaration(&op->tools[i], "parameters")));
		b = json_set(b, "tools", tools);
	}
	int stream = op && op->stream;
	if (stream) {
		b = json_set(b, "stream", jv_true());
		b = json_set(b, "stream_options", json_set(jv_object(), "include_usage", jv_true()));
	}
	jv_free(o->text);
	jv_free(o->tool_calls);
	jv_free(o->plain);
	jv_free(o->refusal);
	sse_free(&o->sse);
	o->text = jv_string("");
	o->tool_calls = jv_array();
	o->plain = jv_invalid();
	o->refusal = jv_string("");
	o->finish[0] = 0;
	o->done_seen = 0;
	if (remote_request(c, &o->req, "OPENAI_BASE_URL", OPENAI_BASE, "/chat/completions",
	                   "OPENAI_API_KEY", NULL, b) < 0) {
		release(c);
		return;
	}
	o->req.on_data = stream ? on_sse : NULL;
	o->req.on_done = chat_done;
	o->req.user = c;
	http_start(&o->req);
}

/* Merges one streamed tool-call delta D (borrowed) into o->tool_calls. */
static void merge_tool_delta(struct oai *o, jv d)
{
	jv ix = json_get(d, "index");
	int i = (int)json_int(ix, 0, -1, 129);
	jv_free(ix);
	if (i < 0 || i > 128)
		return;
	while (jv_array_length(jv_copy(o->tool_calls)) <= i)
		o->tool_calls = jv_array_append(
			o->tool_calls,
			json_set(json_set(jv_object(), "type", jv_string("function")), "function",
			         json_set(json_set(jv_object(), "name", jv_string("")), "arguments",
			                  jv_string(""))));
	jv tc = jv_array_get(jv_copy(o->tool_calls), i);
	jv id = json_get(d, "id");
	if (jv_get_kind(id) == JV_KIND_STRING)
		tc = json_set(tc, "id", id);
	else
		jv_free(id);
	jv f = json_get(d, "function"), tf = json_get(tc, "function");
	static const char *const parts[] = { "name", "arguments" };
	for (int k = 0; k < 2; k++) {
		jv piece = json_get(f, parts[k]);
		if (jv_get_kind(piece) == JV_KIND_STRING)
			tf = json_set(tf, parts[k],
			              jv_string_concat(json_get(tf, parts[k]), piece));
		else
			jv_free(piece);
	}
	jv_free(f);
	tc = json_set(tc, "function", tf);
	o->tool_calls = jv_array_set(o->tool_calls, i, tc);
}

/* One SSE event's data. Returns -1 (with the request's kind set) to stop. */
static int on_event(void *user, const char *type, const char *data, size_t n)
{
	(void)type;
	struct call *c = user;
	struct oai *o = c->priv;
	if (n == 6 && !memcmp(data, "[DONE]", 6)) {
		o->done_seen = 1;
		return 0;
	}
	jv ev = remote_event(&o->req, data, n);
	if (!jv_is_valid(ev))
		return -1;
	add_usage(o, json_get(ev, "usage"));
	jv c0 = json_first(ev, "choices");
	jv d = json_get(c0, "delta");
	const char *fin = json_str(c0, "finish_reason", NULL);
	if (fin)
		snprintf(o->finish, sizeof o->finish, "%s", fin);
	jv content = json_get(d, "content");
	if (jv_get_kind(content) == JV_KIND_STRING)
		o->text = remote_delta(c, o->text, content);
	else
		jv_free(content);
	jv refusal = json_get(d, "refusal");
	if (jv_get_kind(refusal) == JV_KIND_STRING)
		o->refusal = jv_string_concat(o->refusal, refusal);
	else
		jv_free(refusal);
	jv tcs = json_get(d, "tool_calls");
	for (int i = 0; jv_get_kind(tcs) == JV_KIND_ARRAY && i < jv_array_length(jv_copy(tcs)); i++) {
		jv t = jv_array_get(jv_copy(tcs), i);
		merge_tool_delta(o, t);
		jv_free(t);
	}
	jv_free(tcs);
	jv_free(d);
	jv_free(c0);
	jv_free(ev);
	return 0;
}

static int on_sse(struct http_req *r, const char *p, size_t n)
{
	struct call *c = r->user;
	struct oai *o = c->priv;
	/* A server that ignores "stream": true answers with plain JSON. */
	if (r->delivered == n && !strncasecmp(r->ctype, "application/json", 16))
		o->plain = jv_string("");
	if (jv_is_valid(o->plain)) {
		o->plain = jv_string_append_buf(o->plain, p, (int)n);
		return 0;
	}
	return sse_feed(&o->sse, p, n, on_event, c);
}

static void run_tools(struct call *c);

/* The model's MESSAGE (consumed): an answer, or tool calls to run. */
static void answer(struct call *c, jv msg)
{
	struct oai *o = c->priv;
	const struct call_opts *op = c->opts;
	jv tcs = json_get(msg, "tool_calls");
	if (jv_get_kind(tcs) == JV_KIND_ARRAY && jv_array_length(jv_copy(tcs)) > 0 && op &&
	    op->ntools > 0) {
		jv m = json_set(json_set(jv_object(), "role", jv_string("assistant")),
		                "tool_calls", jv_copy(tcs));
		o->messages = jv_array_append(o->messages, m);
		jv_free(msg);
		jv calls = jv_array();
		jv_array_foreach(tcs, i, tc) {
			(void)i;
			jv f = json_get(tc, "function");
			calls = jv_array_append(calls,
			                        json_set(json_set(json_set(jv_object(), "id",
			                                                   json_get(tc, "id")),
			                                          "name", json_get(f, "name")),
			                                 "arguments", json_get(f, "arguments")));
			jv_free(f);
			jv_free(tc);
		}
		jv_free(tcs);
		if (toolrun_begin(&o->tools, c, calls) < 0) {
			remote_give_up(c, "bad_response", err_msg());
			return;
		}
		run_tools(c);
		return;
	}
	jv_free(tcs);
	/* A refusal, or an answer the content filter withheld, is refused. */
	jv refusal = json_get(msg, "refusal");
	jv content = json_get(msg, "content");
	jv_free(msg);
	if (jv_get_kind(refusal) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(refusal))) {
		char why[400];
		snprintf(why, sizeof why, "refused: %s", jv_string_value(refusal));
		jv_free(refusal);
		jv_free(content);
		remote_give_up(c, "refused", why);
		return;
	}
	jv_free(refusal);
	if (!strcmp(o->finish, "content_filter")) {
		jv_free(content);
		remote_give_up(c, "refused", "the answer was withheld by the content filter");
		return;
	}
	if (jv_get_kind(content) != JV_KIND_STRING) {
		jv_free(content);
		remote_give_up(c, "bad_response", "the answer has no content");
		return;
	}
	if (strcmp(o->finish, "stop"))
		snprintf(c->finish, sizeof c->finish, "%s", o->finish);
	succeed(c, content);
}

/* The answer V (consumed) of a request not streamed. */
static void chat_answer(struct call *c, jv v)
{
	struct oai *o = c->priv;
	add_usage(o, json_get(v, "usage"));
	jv c0 = json_first(v, "choices");
	jv msg = json_get(c0, "message");
	snprintf(o->finish, sizeof o->finish, "%s", json_str_or(c0, "finish_reason", ""));
	jv_free(c0);
	jv_free(v);
	if (jv_get_kind(msg) != JV_KIND_OBJECT) {
		jv_free(msg);
		remote_give_up(c, "bad_response", "no choices[0].message in the answer");
		return;
	}
	answer(c, msg);
}

static void chat_done(struct http_req *r)
{
	struct call *c = r->user;
	struct oai *o = c->priv;
	if (r->kind) {
		remote_answer(c, r); /* fails C with R's error */
		return;
	}
	if (o->req.on_data && jv_is_valid(o->plain)) {
		/* Streaming was asked for and ignored: a whole answer. */
		jv v = json_parse(jv_string_value(o->plain),
		                  (size_t)jv_string_length_bytes(jv_copy(o->plain)));
		http_free(r);
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			remote_give_up(c, "bad_response", jv_is_valid(v) ? "expected a JSON object"
			                                                 : "the answer is not JSON");
			jv_free(v);
			return;
		}
		chat_answer(c, v);
		return;
	}
	if (o->req.on_data) {
		sse_end(&o->sse, on_event, c);
		if (r->kind) { /* set by on_sse: a bad chunk or an error event */
			remote_answer(c, r);
			return;
		}
		if (!o->done_seen) {
			remote_give_up(c, "bad_response", "the stream ended before [DONE]");
			return;
		}
		jv m = json_set(jv_object(), "content", jv_copy(o->text));
		m = json_set(m, "refusal", jv_copy(o->refusal));
		if (jv_array_length(jv_copy(o->tool_calls)) > 0)
			m = json_set(m, "tool_calls", jv_copy(o->tool_calls));
		http_free(r);
		answer(c, m);
		return;
	}
	jv v = remote_answer(c, r);
	if (jv_is_valid(v))
		chat_answer(c, v);
}

/* Runs the round's tools; when all have answered, asks again. */
static void run_tools(struct call *c)
{
	struct oai *o = c->priv;
	if (!toolrun_go(&o->tools, c))
		return; /* fds() and step() drive it */
	jv_array_foreach(o->tools.answers, i, answer) {
		jv tc = jv_array_get(jv_copy(o->tools.calls), i);
		jv m = json_set(json_set(jv_object(), "role", jv_string("tool")), "tool_call_id",
		                json_get(tc, "id"));
		o->messages = jv_array_append(o->messages, json_set(m, "content", answer));
		jv_free(tc);
	}
	send_chat(c);
}

static int fds(struct call *c, struct pollfd *p, int max, int64_t *deadline)
{
	struct oai *o = c->priv;
	return o ? toolrun_fds(&o->tools, p, max, deadline) : 0;
}

static void step(struct call *c, struct pollfd *p, int n, int64_t now)
{
	struct oai *o = c->priv;
	if (o && toolrun_step(&o->tools, c, p, n, now))
		run_tools(c);
}

/* images and speech: one request, one answer */
static void media_done(struct http_req *r)
{
	struct call *c = r->user;
	struct oai *o = c->priv;
	if (r->kind) {
		remote_answer(c, r); /* fails C with R's error */
		return;
	}
	if (c->model->output == MT_AUDIO) {
		char *b = remote_base64(r->resp ? r->resp : "", r->resplen);
		if (!b) {
			remote_give_up(c, "cancelled", "out of memory");
			return;
		}
		jv url = jv_string_fmt("data:%s;base64,%s", *r->ctype ? r->ctype : "audio/mpeg", b);
		free(b);
		succeed(c, url);
		return;
	}
	jv v = remote_answer(c, r);
	if (!jv_is_valid(v))
		return;
	add_usage(o, json_get(v, "usage"));
	jv first = json_first(v, "data");
	jv url = json_get(first, "url"), b64 = json_get(first, "b64_json");
	jv_free(first);
	jv_free(v);
	if (jv_get_kind(url) == JV_KIND_STRING) {
		jv_free(b64);
		succeed(c, url);
	} else if (jv_get_kind(b64) == JV_KIND_STRING) {
		jv_free(url);
		succeed(c, jv_string_fmt("data:image/png;base64,%s", jv_string_value(b64)));
		jv_free(b64);
	} else {
		jv_free(url);
		jv_free(b64);
		remote_give_up(c, "bad_response", "no data[0].url or b64_json in the answer");
	}
}

static void start(struct call *c)
{
	struct oai *o = calloc(1, sizeof *o);
	if (!o) {
		call_fail(c, "cancelled", "out of memory");
		return;
	}
	c->priv = o;
	o->messages = jv_array();
	o->text = o->tool_calls = jv_invalid();
	sse_init(&o->sse);
	toolrun_init(&o->tools);
	const struct model *m = c->model;
	if (m->output != MT_TEXT) {
		jv b = jv_object();
		b = json_set(b, "model", jv_string(remote_name(c)));
		const char *path = "/images/generations";
		if (m->output == MT_AUDIO) {
			path = "/audio/speech";
			b = json_set(b, "input", jv_copy(c->input));
			b = json_set(b, "voice", jv_string(remote_str(c, "voice", "alloy")));
		} else {
			b = json_set(b, "prompt", jv_copy(c->input));
			b = json_set(b, "n", jv_number(1));
			const char *size = remote_str(c, "size", NULL);
			if (size)
				b = json_set(b, "size", jv_string(size));
		}
		if (remote_request(c, &o->req, "OPENAI_BASE_URL", OPENAI_BASE, path,
		                   "OPENAI_API_KEY", NULL, b) < 0) {
			release(c);
			return;
		}
		o->req.on_done = media_done;
		o->req.user = c;
		http_start(&o->req);
		return;
	}
	const struct call_opts *op = c->opts;
	const char *sys = op && op->system ? op->system : remote_str(c, "system", NULL);
	if (sys)
		o->messages = jv_array_append(o->messages,
		                              json_set(json_set(jv_object(), "role", jv_string("system")),
		                                       "content", jv_string(sys)));
	jv content = jv_copy(c->input);
	if (m->input == MT_IMAGE) {
		jv text = json_set(json_set(jv_object(), "type", jv_string("text")), "text",
		                   jv_string(remote_str(c, "prompt", "Describe this image.")));
		jv img = json_set(json_set(jv_object(), "type", jv_string("image_url")), "image_url",
		                  json_set(jv_object(), "url", content));
		content = jv_array_append(jv_array_append(jv_array(), text), img);
	}
	o->messages = jv_array_append(o->messages,
	                              json_set(json_set(jv_object(), "role", jv_string("user")),
	                                       "content", content));
	send_chat(c);
}

const struct platform platform_openai = {
	.name = "openai",
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
