/* agent-run: agents at work (DESIGN.md §6, Arboretum's agents).
 *
 *   agent-run NAME    runs one agent in the foreground
 *   agent-run --all   the manager: every active agent, following the table
 *
 * Each finished job is a record on stdout; records on stdin name a
 * responsibility to run ("responsibility", and with --all "agent"). The
 * work itself is lib/agent/run.h's; this program opens the state, the bus
 * and the catalogue, turns the record loop, speaks systemd's notify
 * protocol and stops on SIGINT, SIGTERM, SIGHUP or a closed stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/run.h"
#include "agent/spec.h"
#include "base/err.h"
#include "base/notify.h"
#include "base/timeutil.h"
#include "base/path.h"
#include "bus/bus.h"
#include "cli/prog.h"
#include "json/json.h"
#include "json/loop.h"
#include "json/ndjson.h"
#include "model/catalogue.h"
#include "state/db.h"

static const char usage[] =
	"usage: agent-run [OPTION]... NAME\n"
	"       agent-run [OPTION]... --all\n"
	"Run an agent in the foreground, or (--all) every active agent, starting,\n"
	"stopping and restarting them as the agents table changes. Each finished\n"
	"job is a record on stdout; a record on stdin runs the responsibility it\n"
	"names (\"responsibility\"; with --all, \"agent\" too).\n"
	"\n"
	"  -a, --all               the manager: every active agent\n"
	"  -f, --force             NAME: run it whatever its status says\n"
	"      --exit-on-eof       at the end of stdin, finish the jobs queued, exit\n"
	"  -R, --raw-input         every line of stdin is text, {\"input\": LINE}\n"
	"      --json              every line of stdin must be a JSON object\n"
	"      --max-line BYTES    longest line accepted (default 4194304)\n"
	"      --abilities DIR     also allow abilities from DIR (repeat)\n"
	"      --timeout DUR       an ability's time limit (default 60s)\n"
	"      --max-output BYTES  what an ability may print (default 1048576)\n"
	"      --restart-delay DUR after a crash, the first restart's delay,\n"
	"                          doubling to 1 min (default 1s)\n"
	"      --flap-count N      an agent that crashes more than N times ...\n"
	"      --flap-window DUR   ... within DUR is disabled_flapping (5, 60s)\n"
	"      --poll DUR          how often the table is looked at (default 1s)\n"
	"      --keep-events DUR   delete agent_events older than DUR (default 30d;\n"
	"                          0 keeps them all)\n"
	"  -j, --jobs N            jobs an agent runs at once, unless its row says\n"
	"                          (\"concurrency\"; default 4)\n"
	"      --max-queue N       jobs that may wait per agent (default 1000)\n"
	"      --models FILE       user catalogue (default $PANIC_MODELS or\n"
	"                          ~/.config/panic/models.json)\n"
	"      --db PATH           state file (default $PANIC_DB)\n"
	"      --bus DIR           the bus (default $PANIC_BUS)\n"
	"  -q, --quiet             less on stderr  -v, --verbose  more on stderr\n"
	"  -h, --help              this help       --version      the version\n"
	"\n"
	"Durations: 500ms, 30s, 5m, 1h, 1d. $PANIC_CLOCK names a file holding the\n"
	"time (RFC 3339) to use instead of the clock, for tests.\n"
	"\n"
	"Exit: 0 ok (stopped, or NAME deactivated or deleted), 1 some input\n"
	"rejected, a job from stdin failed or NAME disabled for flapping, 2 usage,\n"
	"3 no such agent, an\n"
	"invalid agent or a state error, 4 NAME is not active or runs elsewhere.\n";

enum {
	O_EOF = 256, O_ABILITIES, O_TIMEOUT, O_MAX_OUTPUT, O_RESTART, O_FLAP_COUNT, O_FLAP_WINDOW,
	O_POLL, O_KEEP, O_MAX_QUEUE, O_MODELS,
};

static const struct option longopts[] = {
	{ "all", no_argument, 0, 'a' },
	{ "force", no_argument, 0, 'f' },
	{ "exit-on-eof", no_argument, 0, O_EOF },
	{ "abilities", required_argument, 0, O_ABILITIES },
	{ "timeout", required_argument, 0, O_TIMEOUT },
	{ "max-output", required_argument, 0, O_MAX_OUTPUT },
	{ "restart-delay", required_argument, 0, O_RESTART },
	{ "flap-count", required_argument, 0, O_FLAP_COUNT },
	{ "flap-window", required_argument, 0, O_FLAP_WINDOW },
	{ "poll", required_argument, 0, O_POLL },
	{ "keep-events", required_argument, 0, O_KEEP },
	{ "jobs", required_argument, 0, 'j' },
	{ "max-queue", required_argument, 0, O_MAX_QUEUE },
	{ "models", required_argument, 0, O_MODELS },
	PROG_INPUT_OPTIONS,
	PROG_OPTIONS,
	PROG_BUS_OPTION,
	{ 0, 0, 0, 0 },
};

static int64_t duration(const char *opt, const char *s, int64_t min)
{
	int64_t ms;
	if (time_duration(s, 1000, &ms) < 0) /* a bare number: seconds, as everywhere */
		pusage("%s: %s", opt, err_msg());
	if (ms < min)
		pusage("%s: at least %lld ms", opt, (long long)min);
	return ms;
}

static struct {
	struct runner *r;
	int sfd, exit_on_eof, status;
	struct watchdog wd;
} g;

static void on_job(void *ctx, jv rec)
{
	(void)ctx;
	json_write(stdout, rec);
	jv_free(rec);
}

static void on_notice(void *ctx, const char *msg)
{
	(void)ctx;
	if (prog_verbose >= 0)
		pwarn("%s", msg);
}

static void on_record(struct loop *l, jv rec)
{
	if (runner_record(g.r, rec) < 0)
		loop_reject(l, "%s", err_msg());
}

static int on_work(struct loop *l)
{
	if (l->eof) {
		runner_eof(g.r, g.exit_on_eof);
		l->in = NULL; /* read no more; the agents go on */
	}
	if (prog_closed)
		runner_stop(g.r);
	int ms = runner_work(g.r);
	if (ms == -2)
		return LOOP_END;
	return watchdog_tick(&g.wd, ms);
}

static int on_wait(struct loop *l, struct pollfd *p, int n, int ms)
{
	(void)l;
	return runner_wait(g.r, p, n, ms);
}

static void on_woke(struct loop *l)
{
	if (l->fds[0].revents & POLLIN) {
		int sig = prog_signal_read(g.sfd);
		if (sig) {
			if (prog_verbose > 0)
				pwarn("signal %d: stopping", sig);
			notify("STOPPING=1");
			prog_signalled = sig; /* SIGINT: dies by it at the end, as a shell expects */
			runner_stop(g.r);
		}
	}
	runner_woke(g.r);
}

static void on_idle(struct loop *l)
{
	(void)l;
	runner_idle(g.r);
	g.status = prog_flush(g.status);
}

int main(int argc, char **argv)
{
	prog_init("agent-run");
	struct runner_opts o = {
		.timeout_ms = 60000, .max_output = 1 << 20, .restart_ms = 1000, .flap_count = 5,
		.flap_window_ms = 60000, .poll_ms = 1000, .keep_events_ms = 30LL * 86400000,
		.max_queue = 1000, .jobs = 4,
	};
	char *dirs[8];
	const char *models = NULL;
	int all = 0, c;
	while ((c = getopt_long(argc, argv, "afj:Rqvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': all = 1; break;
		case 'f': o.force = 1; break;
		case O_EOF: g.exit_on_eof = 1; break;
		case O_ABILITIES:
			if (o.ndirs >= 6)
				pusage("--abilities: at most 6 directories");
			dirs[o.ndirs++] = optarg;
			break;
		case O_TIMEOUT: o.timeout_ms = duration("--timeout", optarg, 1); break;
		case O_MAX_OUTPUT:
			o.max_output = (size_t)prog_atol("--max-output", optarg, 1, 1L << 30);
			break;
		case O_RESTART: o.restart_ms = duration("--restart-delay", optarg, 1); break;
		case O_FLAP_COUNT: o.flap_count = (int)prog_atol("--flap-count", optarg, 0, 60); break;
		case O_FLAP_WINDOW: o.flap_window_ms = duration("--flap-window", optarg, 1); break;
		case O_POLL: o.poll_ms = duration("--poll", optarg, 10); break;
		case O_KEEP: o.keep_events_ms = duration("--keep-events", optarg, 0); break;
		case 'j': o.jobs = (int)prog_atol("--jobs", optarg, 1, AGENT_JOBS_MAX); break;
		case O_MAX_QUEUE: o.max_queue = (int)prog_atol("--max-queue", optarg, 1, 1000000); break;
		case O_MODELS: models = optarg; break;
		default: prog_option(c, usage);
		}
	}
	if (all == (optind < argc))
		pusage(all ? "--all runs every agent: no NAME with it" : "no agent (NAME or --all)");
	if (optind < argc - 1)
		pusage("one agent at a time (or --all)");
	if (all && o.force)
		pusage("--force is for one agent");
	o.only = all ? NULL : argv[optind];
	if (o.only && !agent_name_ok(o.only))
		pusage("'%s' is not an agent name", o.only);
	o.dirs = dirs;
	o.verbose = prog_verbose;
	o.clock_file = getenv("PANIC_CLOCK");
	char *db_path = path_db(prog_db), *bus_path = path_bus(prog_bus);
	o.db_path = db_path;
	o.bus_path = bus_path;

	struct db *db = prog_state(DB_CREATE | DB_WRITE);
	struct bus *bus = prog_bus_open("event: responsibilities do not fire and agents:changed "
	                                "is not followed");
	struct catalogue *cat;
	if (catalogue_load(&cat, models) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	struct runner_io io = { on_job, on_notice, NULL };
	if (runner_new(&g.r, db, bus, cat, &o, &io) < 0)
		pdie(PX_FAIL, "%s", err_msg());
	int rc = runner_start(g.r);
	if (rc != RUNNER_OK) {
		runner_idle(g.r);
		pdie(rc, "%s", err_msg());
	}
	g.sfd = prog_signalfd();
	watchdog_init(&g.wd);
	notify("READY=1");

	struct nd_reader *in = prog_reader(0);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	struct loop l = { .in = in, .record = on_record, .bad = prog_loop_bad, .work = on_work,
		          .wait = on_wait, .woke = on_woke, .idle = on_idle, .nfds = 1 };
	l.fds[0] = (struct pollfd){ .fd = g.sfd, .events = POLLIN };
	if (loop_run(&l) < 0)
		pwarn("stdin: %s", err_msg());
	if (!prog_signalled) /* a signal said it already */
		notify("STOPPING=1");
	runner_stop(g.r);
	runner_idle(g.r);
	int status = runner_status(g.r);
	if (l.nbad && !status)
		status = PX_FAIL;
	runner_free(g.r);
	nd_free(in);
	catalogue_free(cat);
	bus_close(bus);
	free(db_path);
	free(bus_path);
	if (g.sfd >= 0)
		close(g.sfd);
	if (db_close(db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (g.status && !status)
		status = g.status;
	return prog_finish(status);
}
