/* vesta-send: records to Vestaboard boards (DESIGN.md §6).
 *
 * Each record (or text line) becomes a board: a ready "characters" array,
 * VBML under "vbml", or the text of --from (default "output"; a text line
 * is its own text) laid out as Vestaboard lays it out (lib/vesta). With
 * --codes the board is printed as rows of codes, with --preview drawn in
 * the terminal; otherwise it goes to each board named with -b, through
 * the board's API, paced: at most one message per board per interval, the
 * newest replacing one still waiting (counted), 429 and 503 backed off.
 * Every outcome (sent, replaced, failed) is the record with a "vesta"
 * object added, on stdout and as an event on vesta:BOARD.
 *
 * --installation NAME routes a network's invocations to its boards by
 * stride and offset, and the run's prompt to its initial_prompt boards,
 * following invocation:NETWORK and run:NETWORK on the bus (or panic-loop's
 * output on stdin with --stdin); an invocation already shown on a board is
 * not shown again, so a runner that restarts and repeats itself does no
 * harm.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/keys.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "cli/prog.h"
#include "http/http.h"
#include "json/json.h"
#include "json/loop.h"
#include "json/ndjson.h"
#include "state/db.h"
#include "vesta/api.h"
#include "vesta/board.h"
#include "vesta/config.h"
#include "vesta/layout.h"

static const char usage[] =
	"usage: vesta-send [OPTION]... -b BOARD...\n"
	"       vesta-send --codes|--preview [--size SIZE]\n"
	"       vesta-send --installation NAME [--stdin]\n"
	"Lay records out as Vestaboard does and send them to boards.\n"
	"\n"
	"  -b, --board NAME     send to board NAME of the config file (repeatable)\n"
	"      --codes          print each board as a JSON array of rows of codes\n"
	"      --preview        draw each board in the terminal\n"
	"      --size SIZE      flagship (6x22), note (3x15) or ROWSxCOLS, for\n"
	"                       --codes and --preview (default: the board's, or flagship)\n"
	"      --from FIELD     the text's field (default \"output\", else \"input\";\n"
	"                       a text line is its own text); \"vbml\" and\n"
	"                       \"characters\" come first\n"
	"      --installation NAME  route a network's invocations to the boards of\n"
	"                       installation NAME, following the bus\n"
	"      --stdin          with --installation: read panic-loop's output on\n"
	"                       stdin instead of the bus\n"
	"      --interval SECS  least time between two messages to a board\n"
	"                       (default: the board's, else 15)\n"
	"      --attempts N     tries of a message a busy board refuses (default 5)\n"
	"      --timeout SECS   give up on a request after SECS (default 10)\n"
	"      --config FILE    boards and installations (default $PANIC_VESTA or\n"
	"                       ~/.config/panic/vesta.json)\n"
	"      --db PATH        state file (default $PANIC_DB)\n"
	"      --bus DIR        the bus (default $PANIC_BUS)\n"
	PROG_INPUT_USAGE
	"  -q, --quiet          less on stderr     -v, --verbose  more on stderr\n"
	"  -h, --help           this help          --version      the version\n"
	"\n"
	"Keys: each board's key_env (default VESTABOARD_READ_WRITE_KEY,\n"
	"VESTABOARD_TOKEN or VESTABOARD_LOCAL_API_KEY), from the environment or\n"
	"the 0600 file ~/.config/panic/keys.\n"
	"Exit: 0 ok, 1 some input rejected or some message failed, 2 usage,\n"
	"3 configuration or state error.\n";

enum { O_CODES = 256, O_PREVIEW, O_SIZE, O_FROM, O_INSTALL, O_STDIN, O_INTERVAL,
       O_ATTEMPTS, O_TIMEOUT, O_CONFIG };

static const struct option longopts[] = {
	{ "board", required_argument, 0, 'b' },
	{ "codes", no_argument, 0, O_CODES },
	{ "preview", no_argument, 0, O_PREVIEW },
	{ "size", required_argument, 0, O_SIZE },
	{ "from", required_argument, 0, O_FROM },
	{ "installation", required_argument, 0, O_INSTALL },
	{ "stdin", no_argument, 0, O_STDIN },
	{ "interval", required_argument, 0, O_INTERVAL },
	{ "attempts", required_argument, 0, O_ATTEMPTS },
	{ "timeout", required_argument, 0, O_TIMEOUT },
	{ "config", required_argument, 0, O_CONFIG },
	PROG_OPTIONS,
	PROG_BUS_OPTION,
	PROG_INPUT_OPTIONS,
	{ 0, 0, 0, 0 },
};

/* A message for one board: the record it came from and its board. */
struct msg {
	jv rec;
	char *raw;
	size_t rawlen;
	struct vesta_board face;
	int attempts; /* sending it */
	long replaced; /* older messages it replaced while they waited */
};

/* A board being sent to. */
struct target {
	const struct vesta_target *t;
	const char *key;
	struct vesta_pace pace;
	struct msg *pending, *flying;
	struct http_req req;
	/* installations: what this board has shown */
	char run[64];
	long seq;
	char prompted[64];
};

static struct {
	struct vesta_config cfg;
	const char *from;
	int from_given;
	int mode; /* 0 send, O_CODES, O_PREVIEW */
	int rows, cols, sized;
	struct target *tg;
	int ntg;
	const struct vesta_install *inst;
	int use_stdin;
	double interval;
	int attempts, timeout_ms;
	struct db *db;
	struct bus *bus;
	struct bus_sub *sub;
	int status;
	int tty;
	long answers; /* requests ended, so a wait knows one did */
} g = { .from = "output", .interval = -1, .attempts = 5, .timeout_ms = 10000 };

enum { FD_BUS };

static void msg_free(struct msg *m)
{
	if (!m)
		return;
	jv_free(m->rec);
	free(m->raw);
	free(m);
}

/* ---- outcomes ---- */

/* Writes M's record with "vesta": OUTCOME added and publishes the outcome
 * on vesta:BOARD. Consumes OUTCOME. */
static void report(struct target *t, const struct msg *m, jv outcome)
{
	char at[32];
	outcome = json_set(outcome, "at", jv_string(time_rfc3339(time_now_ms(), at)));
	jv o = json_set(jv_object(), "board", jv_string(t->t->name));
	jv_object_foreach(outcome, k, v) o = jv_object_set(o, k, v);
	jv_free(outcome);
	struct json_field f[] = { { "vesta", jv_copy(o), NULL } };
	json_write_with(stdout, m->rec, m->raw, m->rawlen, f, 1);
	if (g.bus) {
		char topic[300];
		snprintf(topic, sizeof topic, "vesta:%s", t->t->name);
		static const char *const links[] = { "network", "run_id", "seq", "id" };
		for (int i = 0; i < 4; i++) {
			jv v = json_get(m->rec, links[i]);
			if (jv_is_valid(v) && !json_has(o, links[i]))
				o = json_set(o, links[i], v);
			else
				jv_free(v);
		}
		if (bus_publish(g.bus, topic, o, g.db) < 0 && prog_verbose > 0)
			pwarn("bus: %s", err_msg());
	}
	jv_free(o);
}

static jv outcome(const char *what)
{
	return json_set(jv_object(), "outcome", jv_string(what));
}

static jv failure(const char *kind, const char *msg)
{
	jv e = json_set(json_set(jv_object(), "kind", jv_string(kind)), "message", jv_string(msg));
	return json_set(outcome("failed"), "error", e);
}

/* ---- sending ---- */

static void on_done(struct http_req *r)
{
	struct target *t = r->user;
	struct msg *m = t->flying;
	int64_t now = time_mono_ms();
	int a = vesta_answer(r);
	g.answers++;
	if (a == VESTA_BUSY && m->attempts < g.attempts) {
		int64_t wait = vesta_pace_busy(&t->pace, now, r->retry_after_ms);
		if (prog_verbose > 0)
			pwarn("%s: %s; again in %lld ms", t->t->name, r->msg, (long long)wait);
		t->flying = NULL;
		if (t->pending) { /* a newer one waits: this one is replaced */
			t->pending->replaced += m->replaced + 1;
			report(t, m, outcome("replaced"));
			msg_free(m);
		} else {
			t->pending = m;
		}
	} else {
		jv o;
		if (a == VESTA_SENT || a == VESTA_DUPLICATE) {
			o = outcome("sent");
			if (a == VESTA_DUPLICATE)
				o = json_set(o, "duplicate", jv_true());
		} else {
			o = failure(r->kind, r->msg);
			if (r->status)
				o = json_set(o, "status", jv_number((double)r->status));
			g.status = PX_FAIL;
		}
		o = json_set(o, "attempts", jv_number(m->attempts));
		o = json_set(o, "replaced", jv_number((double)m->replaced));
		report(t, m, o);
		vesta_pace_done(&t->pace, now);
		msg_free(m);
		t->flying = NULL;
	}
	http_free(r);
}

static void start(struct target *t)
{
	struct msg *m = t->pending;
	t->pending = NULL;
	t->flying = m;
	memset(&t->req, 0, sizeof t->req);
	if (!t->key) {
		t->key = keys_get(t->t->key_env);
		if (!t->key) {
			report(t, m, failure("no_key", err_msg()));
			g.status = PX_FAIL;
			msg_free(m);
			t->flying = NULL;
			return;
		}
	}
	if (vesta_request(&t->req, t->t, t->key, &m->face, g.timeout_ms) < 0) {
		http_free(&t->req);
		report(t, m, failure("config", err_msg()));
		g.status = PX_FAIL;
		msg_free(m);
		t->flying = NULL;
		return;
	}
	m->attempts++;
	t->req.on_done = on_done;
	t->req.user = t;
	http_start(&t->req);
}

/* Queues REC (borrowed; RAW its text) with FACE for target T: the newest
 * message replaces one still waiting. */
static void queue(struct target *t, jv rec, const char *raw, size_t rawlen,
                  const struct vesta_board *face)
{
	struct msg *m = calloc(1, sizeof *m);
	if (!m || (raw && !(m->raw = malloc(rawlen))))
		pdie(PX_FAIL, "out of memory");
	m->rec = jv_copy(rec);
	if (raw)
		memcpy(m->raw, raw, rawlen);
	m->rawlen = raw ? rawlen : 0;
	m->face = *face;
	if (t->pending) {
		m->replaced = t->pending->replaced + 1;
		report(t, t->pending, outcome("replaced"));
		msg_free(t->pending);
	}
	t->pending = m;
	if (!t->flying && !vesta_pace_wait(&t->pace, time_mono_ms()))
		start(t); /* a board that waits for nothing takes it now */
}

/* ---- faces ---- */

static void preview(const struct vesta_board *b)
{
	char line[VESTA_MAX_COLS * 40 + 64];
	fputs("+", stdout);
	for (int c = 0; c < b->cols; c++)
		fputs("-", stdout);
	fputs("+\n", stdout);
	for (int r = 0; r < b->rows; r++) {
		size_t k = 0;
		for (int c = 0; c < b->cols; c++) {
			int code = b->c[r][c];
			const char *rgb = vesta_code_rgb(code);
			if (rgb && g.tty)
				k += (size_t)sprintf(line + k, "\033[48;2;%sm \033[0m", rgb);
			else if (rgb)
				k += (size_t)sprintf(line + k, "%s", (const char *[]){ "r", "o", "y", "g", "b", "v", "w", "k", "\u2588" }[code - 63]);
			else
				k += (size_t)sprintf(line + k, "%s", vesta_code_text(code));
		}
		fputs("|", stdout);
		if (g.tty)
			fwrite(line, 1, k, stdout); /* our own escapes around our own table */
		else
			prog_put_safe(stdout, line, k, 0);
		fputs("|\n", stdout);
	}
	fputs("+", stdout);
	for (int c = 0; c < b->cols; c++)
		fputs("-", stdout);
	fputs("+\n", stdout);
}

/* The face of REC (borrowed) on a ROWS x COLS board; TEXT_LINE: the record
 * came from a text line. 0, or -1 with err_msg(). */
static int face_of(jv rec, int text_line, int rows, int cols, int strict, struct vesta_board *b)
{
	jv v;
	if (jv_is_valid(v = json_get(rec, "characters"))) {
		int rc = vesta_board_from(b, v);
		jv_free(v);
		if (rc == 0 && strict && (b->rows != rows || b->cols != cols))
			rc = err_set("characters: %dx%d for a %dx%d board", b->rows, b->cols, rows, cols);
		return rc;
	}
	if (jv_is_valid(v = json_get(rec, "vbml"))) {
		int rc = vesta_vbml(v, rows, cols, strict, b);
		jv_free(v);
		return rc;
	}
	const char *field = text_line ? "input" : g.from;
	v = json_get(rec, field);
	if (!jv_is_valid(v) && !g.from_given) { /* a plain record: its input */
		field = "input";
		v = json_get(rec, field);
	}
	int rc;
	if (jv_get_kind(v) == JV_KIND_STRING)
		rc = vesta_text(jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)), rows,
		                cols, b);
	else if (!jv_is_valid(v) && !g.from_given && !text_line)
		rc = err_set("no text: no \"output\" or \"input\" (nor \"vbml\" or \"characters\")");
	else if (!jv_is_valid(v))
		rc = err_set("no text: no \"%s\" (nor \"vbml\" or \"characters\")", field);
	else
		rc = err_set("\"%s\": expected a string", field);
	jv_free(v);
	return rc;
}

/* Sends REC to target T, laid out for T's board; reports a record that
 * cannot be laid out as a failure of that board. */
static int send_to(struct target *t, jv rec, const char *raw, size_t rawlen, int text_line,
                   const char *text)
{
	struct vesta_board b;
	int rc = text ? vesta_text(text, strlen(text), t->t->rows, t->t->cols, &b)
	              : face_of(rec, text_line, t->t->rows, t->t->cols, 1, &b);
	if (rc < 0)
		return -1;
	queue(t, rec, raw, rawlen, &b);
	return 0;
}

/* ---- installations ---- */

static int is_url(const char *s)
{
	return (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)) && !strpbrk(s, " \t\n");
}

/* A record of panic-loop's (borrowed): a run that starts, or an
 * invocation that completes, routed to the installation's boards. */
static void route(struct loop *l, jv rec, const char *raw, size_t rawlen)
{
	const char *type = json_str_or(rec, "type", "");
	const char *net = json_str_or(rec, "network", "");
	if (strcmp(net, g.inst->network))
		return;
	const char *run = json_str_or(rec, !strcmp(type, "run") ? "id" : "run_id", "");
	for (int i = 0; i < g.inst->nroute; i++) {
		const struct vesta_route *r = &g.inst->route[i];
		struct target *t = &g.tg[r->board];
		if (!strcmp(type, "run") && r->prompt) {
			const char *prompt = json_str(rec, "prompt", NULL);
			if (!prompt || strcmp(json_str_or(rec, "event", ""), "started") ||
			    !strcmp(t->prompted, run))
				continue;
			snprintf(t->prompted, sizeof t->prompted, "%s", run);
			if (send_to(t, rec, raw, rawlen, 0, prompt) < 0)
				loop_reject(l, "board %s: %s", t->t->name, err_msg());
		} else if (!strcmp(type, "invocation") && r->stride > 0) {
			jv s = json_get(rec, "seq");
			double seq = jv_get_kind(s) == JV_KIND_NUMBER ? jv_number_value(s) : -1;
			jv_free(s);
			const char *out = json_str(rec, "output", NULL);
			if (strcmp(json_str_or(rec, "state", ""), "completed") || !out || is_url(out) ||
			    seq < 0 || (long)seq % r->stride != r->offset)
				continue;
			if (!strcmp(t->run, run) && (long)seq <= t->seq)
				continue; /* shown already: a runner that restarted */
			snprintf(t->run, sizeof t->run, "%s", run);
			t->seq = (long)seq;
			if (send_to(t, rec, raw, rawlen, 0, out) < 0)
				loop_reject(l, "board %s: %s", t->t->name, err_msg());
		}
	}
}

static int bus_event(const char *line, size_t n, void *ctx)
{
	struct loop *l = ctx;
	char *full = NULL;
	size_t len;
	int rc = bus_resolve(g.db, line, n, &full, &len);
	jv ev = rc == 1 ? json_parse(full, len) : json_parse(line, n);
	free(full);
	jv data = json_get(ev, "data");
	if (jv_get_kind(data) == JV_KIND_OBJECT) {
		size_t dl;
		char *raw = json_dump(data, &dl);
		route(l, data, raw, dl);
		free(raw);
	}
	jv_free(data);
	jv_free(ev);
	return 0;
}

/* ---- the loop ---- */

static void on_record(struct loop *l, jv rec)
{
	size_t rawlen = 0;
	const char *raw = nd_raw(l->in, &rawlen);
	if (g.inst) {
		route(l, rec, raw, rawlen);
	} else if (g.mode) {
		struct vesta_board b;
		if (face_of(rec, !raw, g.rows, g.cols, g.sized, &b) < 0) {
			loop_reject(l, "%s", err_msg());
		} else if (g.mode == O_CODES) {
			char text[VESTA_TEXT_MAX];
			size_t n = vesta_board_text(&b, text);
			text[n++] = '\n';
			fwrite(text, 1, n, stdout);
		} else {
			preview(&b);
		}
	} else {
		for (int i = 0; i < g.ntg; i++)
			if (g.tg[i].t && send_to(&g.tg[i], rec, raw, rawlen, !raw, NULL) < 0)
				loop_reject(l, "board %s: %s", g.tg[i].t->name, err_msg());
	}
	jv_free(rec);
}

static int on_work(struct loop *l)
{
	if (prog_closed)
		l->stop = 1;
	if (l->stop)
		return LOOP_END;
	int64_t now = time_mono_ms(), wait = -1;
	int busy = 0;
	for (int i = 0; i < g.ntg; i++) {
		struct target *t = &g.tg[i];
		if (!t->t)
			continue;
		if (t->pending && !t->flying) {
			int64_t w = vesta_pace_wait(&t->pace, now);
			if (!w)
				start(t);
			else if (wait < 0 || w < wait)
				wait = w;
		}
		busy |= t->pending || t->flying;
	}
	if (l->eof && !busy && !(g.inst && !g.use_stdin))
		return LOOP_END;
	return wait > INT32_MAX ? INT32_MAX : (int)wait;
}

static int on_wait(struct loop *l, struct pollfd *p, int n, int ms)
{
	(void)l;
	struct pollfd all[LOOP_FDS + 1 + 64];
	memcpy(all, p, (size_t)n * sizeof *p);
	int64_t deadline, now = time_mono_ms();
	int k = http_fds(all + n, 64, &deadline);
	if (deadline >= 0 && (ms < 0 || deadline - now < ms))
		ms = deadline > now ? (int)(deadline - now) : 0;
	int rc = poll(all, (nfds_t)(n + k), ms);
	memcpy(p, all, (size_t)n * sizeof *p);
	long before = g.answers;
	http_step(all + n, k, time_mono_ms());
	/* a request that ended is news for work(), even with no fd ready */
	return g.answers != before && rc >= 0 ? rc + 1 : rc;
}

static void on_idle(struct loop *l)
{
	g.status = prog_flush(g.status);
	if (g.bus)
		bus_flush(g.bus);
	prog_loop_stopping(l);
}

static void on_woke(struct loop *l)
{
	if (prog_loop_stopping(l))
		return;
	if (g.sub && l->fds[FD_BUS].revents && bus_sub_read(g.sub, bus_event, l) < 0)
		pdie(PX_CONFIG, "bus: %s", err_msg());
}

static double seconds(const char *opt, const char *s)
{
	return prog_ms(opt, s, 86400, 0) / 1000.0;
}

int main(int argc, char **argv)
{
	prog_init("vesta-send");
	const char *names[64], *config = NULL, *size = NULL, *inst = NULL;
	int nnames = 0, c;
	while ((c = getopt_long(argc, argv, "b:qvhR", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (nnames == 64)
				pusage("at most 64 boards");
			names[nnames++] = optarg;
			break;
		case O_CODES:
		case O_PREVIEW: g.mode = c; break;
		case O_SIZE: size = optarg; break;
		case O_FROM: g.from = optarg, g.from_given = 1; break;
		case O_INSTALL: inst = optarg; break;
		case O_STDIN: g.use_stdin = 1; break;
		case O_INTERVAL: g.interval = seconds("--interval", optarg); break;
		case O_TIMEOUT: g.timeout_ms = (int)(seconds("--timeout", optarg) * 1000); break;
		case O_ATTEMPTS: g.attempts = (int)prog_atol("--attempts", optarg, 1, 100); break;
		case O_CONFIG: config = optarg; break;
		default: prog_option(c, usage);
		}
	}
	if (optind < argc)
		pusage("unexpected argument '%s' (boards are named with -b)", argv[optind]);
	if (inst && (nnames || g.mode))
		pusage("--installation routes to its own boards: no -b, --codes or --preview");
	if (g.use_stdin && !inst)
		pusage("--stdin goes with --installation");
	if (!inst && !nnames && !g.mode)
		pusage("no board: name one with -b, or use --codes or --preview");
	if (!g.timeout_ms)
		g.timeout_ms = 1;
	/* --codes and --preview of no board need no configuration */
	if ((nnames || inst || config) && vesta_config_load(&g.cfg, config) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	g.tg = calloc((size_t)g.cfg.nboard + 1, sizeof *g.tg);
	g.ntg = g.cfg.nboard;
	for (int i = 0; i < nnames; i++) {
		int k = vesta_config_board(&g.cfg, names[i]);
		if (k < 0)
			pdie(PX_CONFIG, "%s", err_msg());
		g.tg[k].t = &g.cfg.board[k];
	}
	if (inst) {
		if (!(g.inst = vesta_config_install(&g.cfg, inst)))
			pdie(PX_CONFIG, "%s", err_msg());
		for (int i = 0; i < g.inst->nroute; i++)
			g.tg[g.inst->route[i].board].t = &g.cfg.board[g.inst->route[i].board];
	}
	for (int i = 0; i < g.ntg; i++) {
		struct target *t = &g.tg[i];
		if (t->t && !g.mode && vesta_check_url(t->t) < 0)
			pdie(PX_CONFIG, "%s", err_msg());
		double iv = g.interval >= 0 ? g.interval : t->t && t->t->interval >= 0 ? t->t->interval : 15;
		t->pace.interval = (int64_t)(iv * 1000);
		t->seq = -1;
	}
	g.rows = 6, g.cols = 22;
	if (size) {
		if (vesta_size_parse(size, &g.rows, &g.cols) < 0)
			pusage("--size: %s", err_msg());
		g.sized = 1;
	} else if (nnames) {
		int k = vesta_config_board(&g.cfg, names[0]);
		g.rows = g.cfg.board[k].rows, g.cols = g.cfg.board[k].cols;
		g.sized = 1;
	}
	g.tty = isatty(1) && !getenv("NO_COLOR");
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	struct loop l = {
		.in = inst && !g.use_stdin ? NULL : prog_reader(0),
		.record = on_record, .bad = prog_loop_bad, .work = on_work, .idle = on_idle,
		.woke = on_woke, .wait = on_wait,
	};
	if (!g.mode) {
		g.db = prog_state(DB_CREATE | DB_WRITE);
		g.bus = prog_bus_open(inst && !g.use_stdin ? NULL : "no vesta events");
		if (inst && !g.use_stdin) {
			if (!g.bus)
				pdie(PX_CONFIG, "--installation follows the bus; without one, use --stdin");
			char p1[300], p2[300];
			snprintf(p1, sizeof p1, "invocation:%s", g.inst->network);
			snprintf(p2, sizeof p2, "run:%s", g.inst->network);
			const char *pats[] = { p1, p2 };
			if (bus_subscribe(g.bus, pats, 2, &g.sub) < 0)
				pdie(PX_CONFIG, "bus: %s", err_msg());
			l.fds[FD_BUS] = (struct pollfd){ .fd = bus_sub_fd(g.sub), .events = POLLIN };
			l.nfds = 1;
		}
	}
	prog_loop_watch(&l);
	if (loop_run(&l) < 0)
		pdie(PX_FAIL, "stdin: %s", err_msg());
	if (l.nbad)
		g.status = PX_FAIL;
	for (int i = 0; i < g.ntg; i++) {
		struct target *t = &g.tg[i];
		if (t->flying) {
			http_cancel(&t->req);
			msg_free(t->flying);
		}
		msg_free(t->pending);
	}
	if (l.in)
		nd_free(l.in);
	bus_unsubscribe(g.sub);
	bus_close(g.bus);
	if (g.db && db_close(g.db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	free(g.tg);
	vesta_config_free(&g.cfg);
	return prog_finish(g.status);
}
