/* panic-bus: the event bus from the shell (DESIGN.md §4, §6).
 *
 *   pub TOPIC [JSON]...   publish each JSON (or each stdin record) as data
 *   sub PATTERN...        print matching events until killed (or -n COUNT)
 *   listen PATTERN... -- PROGRAM [ARG]...
 *                         subscribe, then run PROGRAM, and print the matching
 *                         events until it has exited and what it published
 *                         is read: nothing it publishes can be missed
 *   ls                    the subscribers, their patterns and drop counts
 *   clean                 remove fifos nobody reads and leftovers
 */
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/path.h"
#include "base/proc.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "cli/prog.h"
#include "json/json.h"
#include "json/loop.h"
#include "json/ndjson.h"
#include "state/db.h"

static const char usage[] =
	"usage: panic-bus [OPTION]... pub TOPIC [JSON]...\n"
	"       panic-bus [OPTION]... sub PATTERN...\n"
	"       panic-bus [OPTION]... listen PATTERN... -- PROGRAM [ARG]...\n"
	"       panic-bus [OPTION]... ls | clean\n"
	"The event bus: a directory of fifos, one per subscriber.\n"
	"\n"
	"  pub     publish each JSON argument, or each record of stdin, as the\n"
	"          data of an event on TOPIC\n"
	"  sub     print the events whose topic matches a PATTERN (a glob)\n"
	"  listen  subscribe, run PROGRAM, print matching events until PROGRAM\n"
	"          has exited and all it published is read\n"
	"  ls      the subscribers: patterns, drops, bytes queued\n"
	"  clean   remove the fifos of dead subscribers and leftovers\n"
	"\n"
	"  -n, --count N      sub, listen: stop after N events\n"
	"      --timeout SECS sub, listen: stop after SECS seconds\n"
	"      --shared       create the bus for a group (3770, fifos 0660)\n"
	"  -R, --raw-input    pub: every stdin line is text, {\"input\": LINE}\n"
	"      --json         pub: every line must be a JSON object; ls: as JSON\n"
	"      --table        ls: as a table\n"
	"      --max-line BYTES pub: longest stdin line (default 4194304)\n"
	"      --bus DIR      the bus (default $PANIC_BUS or\n"
	"                     $XDG_RUNTIME_DIR/panic-$UID/bus)\n"
	"      --db PATH      state file, for events over PIPE_BUF (default\n"
	"                     $PANIC_DB or ~/.local/state/panic/panic.db)\n"
	"  -q, --quiet        less on stderr    -v, --verbose  more on stderr\n"
	"  -h, --help         this help         --version      the version\n"
	"\n"
	"Exit: 0 ok, 1 some input rejected (pub) or fewer than N events or\n"
	"PROGRAM failed (sub, listen), 2 usage, 3 bus or state error.\n";

enum { O_TIMEOUT = 256, O_SHARED, O_TABLE };

static const struct option longopts[] = {
	{ "count", required_argument, 0, 'n' },
	{ "timeout", required_argument, 0, O_TIMEOUT },
	{ "shared", no_argument, 0, O_SHARED },
	{ "table", no_argument, 0, O_TABLE },
	PROG_OPTIONS,
	PROG_BUS_OPTION,
	PROG_INPUT_OPTIONS,
	{ 0, 0, 0, 0 },
};

static struct {
	struct bus *bus;
	struct db *db; /* opened when an event needs it */
	long count;    /* -n, 0: no limit */
	long seen;
	int64_t deadline; /* monotonic ms, 0: none */
	int status;
} g;

static int sigfd = -1; /* SIGINT, SIGTERM, SIGHUP: stop */

static struct db *state(void)
{
	if (!g.db)
		g.db = prog_state(DB_CREATE);
	return g.db;
}

/* Publishes DATA (borrowed), or its compact text RAW if not NULL. 0, or
 * -1 with err_msg(). */
static int publish(const char *topic, jv data, const char *raw, size_t rawlen)
{
	/* The state file only when the event is too large for a fifo. */
	int n = raw ? bus_publish_text(g.bus, topic, raw, rawlen, g.db)
	            : bus_publish(g.bus, topic, data, g.db);
	if (n == BUS_NEED_DB)
		n = raw ? bus_publish_text(g.bus, topic, raw, rawlen, state())
		        : bus_publish(g.bus, topic, data, state());
	if (n >= 0 && prog_verbose > 0)
		pwarn("%s: for %d subscriber%s", topic, n, n == 1 ? "" : "s");
	return n < 0 ? -1 : 0;
}

/* pub's record loop: each record of stdin is published; the events are
 * written whenever the loop is about to wait. */
static void pub_record(struct loop *l, jv rec)
{
	size_t rawlen;
	const char *raw = nd_raw(l->in, &rawlen);
	if (publish(l->ctx, rec, raw, rawlen) < 0)
		loop_reject(l, "%s", err_msg());
	jv_free(rec);
}

static void pub_woke(struct loop *l)
{
	prog_loop_stopping(l);
}

static void pub_idle(struct loop *l)
{
	bus_flush(g.bus);
	prog_loop_stopping(l);
}

static int cmd_pub(int argc, char **argv)
{
	if (argc < 1)
		pusage("pub: no topic");
	const char *topic = argv[0];
	if (bus_check_topic(topic, strlen(topic)) < 0)
		pusage("pub: %s", err_msg());
	if (argc > 1) {
		/* Check every argument first: publish all or nothing. */
		jv *data = calloc((size_t)argc, sizeof *data);
		for (int i = 1; i < argc; i++) {
			int rc = nd_parse(argv[i], strlen(argv[i]), prog_input_mode, &data[i]);
			if (rc != ND_RECORD) {
				const char *why = rc == ND_EOF ? "empty" : err_msg();
				pwarn("argument %d: %s", i + 1, why);
				for (int j = 1; j < i; j++)
					jv_free(data[j]);
				free(data);
				return PX_FAIL;
			}
		}
		for (int i = 1; i < argc; i++) {
			if (publish(topic, data[i], NULL, 0) < 0) {
				pwarn("%s", err_msg());
				g.status = PX_FAIL;
			}
			jv_free(data[i]);
		}
		free(data);
		return g.status;
	}
	struct nd_reader *r = prog_reader(0);
	struct loop l = { .in = r, .ctx = (void *)topic, .record = pub_record,
		          .bad = prog_loop_bad, .idle = pub_idle, .woke = pub_woke };
	prog_loop_watch(&l);
	if (loop_run(&l) < 0)
		pdie(PX_FAIL, "stdin: %s", err_msg());
	if (l.nbad)
		g.status = PX_FAIL;
	nd_free(r);
	return g.status;
}

/* Prints one received event, resolving a reference; 1 to stop. */
static int print_event(const char *line, size_t n, void *ctx)
{
	(void)ctx;
	size_t len;
	char *full;
	int rc = bus_resolve(g.db, line, n, &full, &len);
	if (rc == BUS_NEED_DB)
		rc = bus_resolve(state(), line, n, &full, &len);
	if (rc < 0) {
		pwarn("%s", err_msg());
		g.status = PX_FAIL;
	} else {
		fwrite(rc ? full : line, 1, rc ? len : n, stdout);
		putchar('\n');
	}
	free(full);
	g.seen++;
	return g.count && g.seen >= g.count;
}

/* Receives events until -n, --timeout, a signal, or DONE() says so. */
static void receive(struct bus_sub *s, int extra_fd, int (*done)(void))
{
	for (;;) {
		if (bus_sub_read(s, print_event, NULL) < 0)
			pdie(PX_CONFIG, "bus: %s", err_msg());
		if (g.count && g.seen >= g.count)
			return;
		if (prog_signalled || (done && done()))
			return;
		g.status = prog_flush(g.status);
		if (prog_closed)
			return; /* the reader went away */
		/* Without a pidfd, look at PROGRAM every 50 ms. */
		int wait = done && extra_fd < 0 ? 50 : -1;
		if (g.deadline) {
			int64_t left = g.deadline - time_mono_ms();
			if (left <= 0)
				return;
			if (left > INT_MAX)
				left = INT_MAX; /* --timeout in months: wake, look, wait on */
			if (wait < 0 || left < wait)
				wait = (int)left;
		}
		/* A signal is a readable fd here: one that comes between the
		 * checks above and the poll is not missed. */
		/* stdout asked for nothing: a pipe whose reader has gone
		 * shows POLLERR, so an idle sub sees it too. */
		struct pollfd p[4] = { { .fd = bus_sub_fd(s), .events = POLLIN },
			               { .fd = sigfd, .events = POLLIN },
			               { .fd = extra_fd, .events = POLLIN },
			               { .fd = 1, .events = 0 } };
		if (poll(p, 4, wait) > 0 && (p[1].revents & POLLIN))
			prog_signalled = prog_signal_read(sigfd);
		if (p[3].revents & (POLLERR | POLLHUP))
			prog_closed = 1;
	}
}

static struct bus_sub *subscribe(int n, char **patterns)
{
	struct bus_sub *s;
	if (n < 1)
		pusage("no pattern");
	for (int i = 0; i < n; i++)
		if (bus_check_topic(patterns[i], strlen(patterns[i])) < 0)
			pusage("pattern %d: %s", i + 1, err_msg());
	if (bus_subscribe(g.bus, (const char *const *)patterns, n, &s) < 0)
		pdie(PX_CONFIG, "bus: %s", err_msg());
	return s;
}

static int finish_count(void)
{
	if (g.count && g.seen < g.count) {
		if (prog_verbose >= 0)
			pwarn("%ld of %ld events before the end", g.seen, g.count);
		return PX_FAIL;
	}
	return g.status;
}

static int cmd_sub(int argc, char **argv)
{
	struct bus_sub *s = subscribe(argc, argv);
	receive(s, -1, NULL);
	bus_unsubscribe(s);
	return finish_count();
}

static struct proc child;
static int child_status;

static int child_done(void)
{
	if (child.pid < 0)
		return 1;
	return proc_reap(&child, &child_status, 0) == 1;
}

static int cmd_listen(int argc, char **argv)
{
	int dash = 0;
	while (dash < argc && strcmp(argv[dash], "--"))
		dash++;
	if (dash == argc || dash + 1 == argc)
		pusage("listen: give PATTERN... -- PROGRAM [ARG]...");
	struct bus_sub *s = subscribe(dash, argv);
	/* Subscribed first, so PROGRAM cannot publish before we listen. Its
	 * stdout goes to our stderr: our stdout carries only events. */
	if (proc_run(&child, argv + dash + 1, 2) < 0) {
		pwarn("%s", err_msg());
		bus_unsubscribe(s);
		return PX_FAIL;
	}
	receive(s, child.pidfd, child_done);
	if (!g.count || g.seen < g.count) {
		/* PROGRAM is gone: everything it published is in our fifo. */
		bus_sub_read(s, print_event, NULL);
	}
	bus_unsubscribe(s);
	if (child.pid > 0)
		proc_reap(&child, &child_status, 1);
	proc_close(&child);
	int status = finish_count();
	if (WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0)
		return status;
	if (WIFSIGNALED(child_status))
		pwarn("%s: killed by signal %d", argv[dash + 1], WTERMSIG(child_status));
	else
		pwarn("%s: exited with status %d", argv[dash + 1], WEXITSTATUS(child_status));
	return PX_FAIL;
}

static int print_peer(const struct bus_peer_info *p, void *ctx)
{
	int table = *(int *)ctx;
	if (table) {
		jv pats = jv_dump_string(jv_copy(p->patterns), 0);
		printf("%-26s %8ld %-5s %8ld %8ld  %s\n", p->name, (long)p->pid,
		       p->alive ? "yes" : "no", p->drops, p->queued, jv_string_value(pats));
		jv_free(pats);
		return 0;
	}
	jv o = jv_object();
	o = json_set(o, "name", jv_string(p->name));
	o = json_set(o, "pid", jv_number(p->pid));
	o = json_set(o, "patterns", jv_copy(p->patterns));
	o = json_set(o, "alive", jv_bool(p->alive));
	o = json_set(o, "drops", jv_number((double)p->drops));
	o = json_set(o, "queued", p->queued >= 0 ? jv_number((double)p->queued) : jv_null());
	json_write(stdout, o);
	jv_free(o);
	return 0;
}

static int cmd_ls(int argc, int table)
{
	if (argc)
		pusage("ls takes no arguments");
	if (table)
		printf("%-26s %8s %-5s %8s %8s  %s\n", "NAME", "PID", "ALIVE", "DROPS", "QUEUED",
		       "PATTERNS");
	if (bus_list(g.bus, print_peer, &table) < 0)
		pdie(PX_CONFIG, "bus: %s", err_msg());
	return PX_OK;
}

static int cmd_clean(int argc)
{
	if (argc)
		pusage("clean takes no arguments");
	int n = bus_clean(g.bus);
	if (n < 0)
		pdie(PX_CONFIG, "bus: %s", err_msg());
	if (prog_verbose > 0)
		pwarn("removed %d dead subscriber%s", n, n == 1 ? "" : "s");
	return PX_OK;
}

static int flags, table;
static int64_t timeout_ms;

/* Options come before the command and anywhere after it, up to a "--"
 * (as jq and grep take them); listen's stop at its first operand, so that
 * PROGRAM's own options stay its own. */
static void options(int argc, char **argv, int anywhere)
{
	int c;
	while ((c = getopt_long(argc, argv, anywhere ? "n:Rqvh" : "+n:Rqvh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'n': g.count = prog_atol("-n", optarg, 1, 1L << 40); break;
		case O_TIMEOUT: timeout_ms = prog_ms("--timeout", optarg, 86400 * 365, 1); break;
		case O_SHARED: flags |= BUS_SHARED; break;
		case PROG_OPT_JSON: /* pub: objects only; ls: as JSON */
			table = 0;
			prog_option(c, usage);
			break;
		case O_TABLE: table = 1; break;
		default: prog_option(c, usage);
		}
	}
}

int main(int argc, char **argv)
{
	prog_init("panic-bus");
	table = isatty(1);
	options(argc, argv, 0);
	if (optind >= argc)
		pusage("no command (pub, sub, listen, ls or clean)");
	const char *cmd = argv[optind++];
	if (strcmp(cmd, "pub") && strcmp(cmd, "sub") && strcmp(cmd, "listen") &&
	    strcmp(cmd, "ls") && strcmp(cmd, "clean"))
		pusage("unknown command '%s' (pub, sub, listen, ls or clean)", cmd);
	/* The command's own arguments, parsed afresh (optind 0) with the
	 * command in the place of the program's name. */
	int sub = optind - 1, listen = !strcmp(cmd, "listen");
	if (!listen || (optind < argc && strcmp(argv[optind], "--"))) {
		optind = 0;
		options(argc - sub, argv + sub, !listen);
		optind += sub;
	}
	int rest = argc - optind;
	char **args = argv + optind;

	char *dir = path_bus(prog_bus);
	int rc = dir ? bus_open(&g.bus, dir, flags) : -1;
	free(dir);
	if (rc < 0)
		pdie(PX_CONFIG, "bus: %s", err_msg());
	if (timeout_ms > 0)
		g.deadline = time_mono_ms() + timeout_ms;
	sigfd = prog_signalfd();
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	int status;
	if (!strcmp(cmd, "pub"))
		status = cmd_pub(rest, args);
	else if (!strcmp(cmd, "sub"))
		status = cmd_sub(rest, args);
	else if (!strcmp(cmd, "listen"))
		status = cmd_listen(rest, args);
	else if (!strcmp(cmd, "ls"))
		status = cmd_ls(rest, table);
	else
		status = cmd_clean(rest);
	bus_close(g.bus);
	if (db_close(g.db) < 0)
		pwarn("state: %s", err_msg());
	return prog_finish(status);
}
