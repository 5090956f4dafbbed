/* panic-watch: a network's invocations on a terminal (DESIGN.md §6),
 * after PANIC!'s display screens.
 *
 * Loads the latest run's recent invocations from the state file, then
 * follows invocation:NETWORK on the bus (subscribed before loading, so
 * nothing falls between the two). Which invocation each slot holds and
 * what it shows are lib/display's (the same as panic-web's); this program
 * draws the frames: on a terminal, in the alternate screen, redrawn when
 * something changes (at most 30 times a second) and when the terminal is
 * resized; elsewhere, one frame per change, each followed by a form feed
 * line. --once prints one frame and exits. Model output never reaches the
 * terminal raw: frames are laid out from text made harmless.
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "cli/prog.h"
#include "display/display.h"
#include "display/frame.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "state/db.h"
#include "state/display.h"

static const char usage[] =
	"usage: panic-watch [OPTION]... NETWORK\n"
	"Show a network's invocations as they happen: the latest run's recent\n"
	"invocations from the state file, then live from the bus.\n"
	"\n"
	"      --grid RxC        a grid of R rows and C columns: invocation SEQ in\n"
	"                        slot SEQ mod R*C, the newest there (default 2x3)\n"
	"      --single O/S      one screen: the newest invocation whose SEQ mod S\n"
	"                        is O (0 <= O < S)\n"
	"      --show-invoking   with --single: show invocations while they run\n"
	"      --once            print one frame and exit\n"
	"      --size COLSxROWS  the frame's size (default: the terminal's, or\n"
	"                        $COLUMNS x $LINES, or 80x24)\n"
	"      --models FILE     user catalogue (default $PANIC_MODELS or\n"
	"                        ~/.config/panic/models.json)\n"
	"      --db PATH         state file (default $PANIC_DB)\n"
	"      --bus DIR         the bus (default $PANIC_BUS)\n"
	"  -q, --quiet           less on stderr     -v, --verbose  more on stderr\n"
	"  -h, --help            this help          --version      the version\n"
	"\n"
	"Exit: 0 ok, 1 the output failed, 2 usage, 3 unknown network, or a state\n"
	"or bus error.\n";

enum { O_GRID = 256, O_SINGLE, O_SHOW, O_ONCE, O_SIZE, O_MODELS };

static const struct option longopts[] = {
	{ "grid", required_argument, 0, O_GRID },
	{ "single", required_argument, 0, O_SINGLE },
	{ "show-invoking", no_argument, 0, O_SHOW },
	{ "once", no_argument, 0, O_ONCE },
	{ "size", required_argument, 0, O_SIZE },
	{ "models", required_argument, 0, O_MODELS },
	PROG_OPTIONS,
	PROG_BUS_OPTION,
	{ 0, 0, 0, 0 },
};

#define FRAME_MS 33 /* at most 30 frames a second */

static struct {
	const char *name;
	char net_id[64];
	struct db *db;
	struct catalogue *cat;
	struct display d;
	char *prompt; /* of the display's run */
	int cols, lines, fixed_size;
	int tty;  /* stdout is a terminal: draw in place */
	int once; /* --once */
	int dirty;
	int64_t drawn; /* monotonic ms of the last frame */
	long frames;
	int status;
} g;

static const char *output_type(jv inv)
{
	const char *id = json_str(inv, "model", NULL);
	struct model *m = id && g.cat ? catalogue_find(g.cat, id) : NULL;
	return m ? mtype_name(m->output) : "text";
}

static void size(void)
{
	struct winsize ws;
	if (g.fixed_size)
		return;
	if (g.tty && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		g.cols = ws.ws_col;
		g.lines = ws.ws_row;
		return;
	}
	const char *c = getenv("COLUMNS"), *l = getenv("LINES");
	g.cols = c && atoi(c) > 0 ? atoi(c) : 80;
	g.lines = l && atoi(l) > 0 ? atoi(l) : 24;
}

/* The prompt of run RUN_ID, from the state file. */
static void load_prompt(const char *run_id)
{
	jv run = db_display_run(g.db, g.net_id);
	const char *id = json_str(run, "id", NULL), *p = json_str(run, "prompt", NULL);
	if (id && p && !strcmp(id, run_id)) {
		free(g.prompt);
		g.prompt = strdup(p);
	}
	jv_free(run);
}

static void take(jv inv)
{
	int r = display_take(&g.d, inv);
	if (r == -1)
		return;
	g.dirty = 1;
	if (r == DISPLAY_RESET) {
		free(g.prompt);
		g.prompt = NULL;
		load_prompt(g.d.run_id);
	}
	jv seq = json_get(inv, "seq");
	const char *in = json_str(inv, "input", NULL);
	if (jv_get_kind(seq) == JV_KIND_NUMBER && jv_number_value(seq) == 0 && in && !g.prompt)
		g.prompt = strdup(in);
	jv_free(seq);
}

static void load(void)
{
	jv run = db_display_run(g.db, g.net_id);
	if (!jv_is_valid(run))
		pdie(PX_CONFIG, "state: %s", err_msg());
	const char *id = json_str(run, "id", NULL);
	if (id) {
		jv invs = db_display_recent(g.db, id, display_backlog(&g.d.spec));
		if (!jv_is_valid(invs))
			pdie(PX_CONFIG, "state: %s", err_msg());
		jv_array_foreach(invs, i, inv) {
			take(inv);
			jv_free(inv);
		}
		jv_free(invs);
		if (!g.d.run_id[0]) /* a run with no invocation yet */
			snprintf(g.d.run_id, sizeof g.d.run_id, "%s", id);
		free(g.prompt);
		g.prompt = json_str(run, "prompt", NULL) ? strdup(json_str(run, "prompt", NULL)) : NULL;
	}
	jv_free(run);
}

static void draw(void)
{
	int n = display_nslots(&g.d.spec);
	jv views = jv_array();
	for (int i = 0; i < n; i++)
		views = jv_array_append(views, display_view(&g.d, i, output_type(g.d.slots[i])));
	char title[600];
	if (g.prompt)
		snprintf(title, sizeof title, "%s · %.500s", g.name, g.prompt);
	else
		snprintf(title, sizeof title, "%s · no run yet", g.name);
	size_t len;
	char *f = frame_render(&g.d.spec, views, title, g.cols, g.lines, g.tty ? FRAME_ANSI : 0, &len);
	jv_free(views);
	if (!f)
		pdie(PX_FAIL, "out of memory");
	if (g.tty) { /* in place; no newline after the last line, or it scrolls */
		fputs("\033[H", stdout);
		fwrite(f, 1, len && f[len - 1] == '\n' ? len - 1 : len, stdout);
		fputs("\033[J", stdout);
	} else {
		fwrite(f, 1, len, stdout);
		if (!g.once)
			fputs("\f\n", stdout); /* frames apart, as pr(1) pages */
	}
	free(f);
	g.dirty = 0;
	g.drawn = time_mono_ms();
	g.frames++;
	g.status = prog_flush(g.status);
}

static int on_event(const char *line, size_t n, void *ctx)
{
	(void)ctx;
	char *full = NULL;
	size_t len;
	int r = bus_resolve(g.db, line, n, &full, &len);
	if (r < 0) {
		if (prog_verbose >= 0)
			pwarn("bus: %s", err_msg());
		return 0;
	}
	jv ev = r == 1 ? json_parse(full, len) : json_parse(line, n);
	free(full);
	jv data = json_get(ev, "data");
	if (jv_get_kind(data) == JV_KIND_OBJECT)
		take(data);
	jv_free(data);
	jv_free(ev);
	return 0;
}

static int winch_fd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void follow(struct bus_sub *sub)
{
	int sfd = prog_signalfd(), wfd = winch_fd();
	if (g.tty)
		fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
	draw();
	enum { BUS, SIG, WINCH, OUT };
	/* stdout asked for nothing: a pipe whose reader has gone shows
	 * POLLERR, so a display with nothing to draw sees it too. */
	struct pollfd p[4] = { { .fd = bus_sub_fd(sub), .events = POLLIN },
		               { .fd = sfd, .events = POLLIN },
		               { .fd = wfd, .events = POLLIN },
		               { .fd = 1, .events = 0 } };
	while (!prog_closed) {
		int wait = -1;
		if (g.dirty) {
			int64_t left = g.drawn + FRAME_MS - time_mono_ms();
			if (left <= 0) {
				draw();
				continue;
			}
			wait = (int)left;
		}
		if (poll(p, 4, wait) < 0)
			continue;
		if (p[OUT].revents & (POLLERR | POLLHUP)) {
			prog_closed = 1;
			break;
		}
		if (p[SIG].revents & POLLIN && (prog_signalled = prog_signal_read(sfd)))
			break;
		if (p[WINCH].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(wfd, &si, sizeof si) > 0)
				;
			size();
			draw();
		}
		if (p[BUS].revents & POLLIN && bus_sub_read(sub, on_event, NULL) < 0)
			pdie(PX_CONFIG, "bus: %s", err_msg());
	}
	if (g.tty && !prog_closed)
		fputs("\033[?25h\033[?1049l", stdout);
	if (wfd >= 0)
		close(wfd);
}

int main(int argc, char **argv)
{
	prog_init("panic-watch");
	struct display_spec spec;
	const char *grid = NULL, *single = NULL, *models = NULL;
	int show = 0, c;
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		switch (c) {
		case O_GRID: grid = optarg; break;
		case O_SINGLE: single = optarg; break;
		case O_SHOW: show = 1; break;
		case O_ONCE: g.once = 1; break;
		case O_SIZE:
			if (sscanf(optarg, "%dx%d", &g.cols, &g.lines) != 2 || g.cols < 1 || g.lines < 1 ||
			    g.cols > 10000 || g.lines > 10000)
				pusage("--size: expected COLSxROWS, as 80x24, got '%s'", optarg);
			g.fixed_size = 1;
			break;
		case O_MODELS: models = optarg; break;
		default: prog_option(c, usage);
		}
	}
	if (optind != argc - 1)
		pusage(optind >= argc ? "no network" : "one network at a time");
	if (grid && single)
		pusage("--grid and --single are two displays: give one");
	if (show && !single)
		pusage("--show-invoking goes with --single");
	if ((single ? display_parse_single(single, &spec, show)
	            : display_parse_grid(grid ? grid : "2x3", &spec)) < 0)
		pusage("%s", err_msg());
	g.name = argv[optind];
	g.tty = isatty(1);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	if (catalogue_load(&g.cat, models) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	g.db = prog_state(DB_CREATE);
	jv net = db_net_get(g.db, g.name);
	if (!jv_is_valid(net))
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (jv_get_kind(net) == JV_KIND_NULL)
		pdie(PX_CONFIG, "no network '%s' (see panic-net list)", g.name);
	snprintf(g.net_id, sizeof g.net_id, "%s", json_str(net, "id", NULL));
	jv_free(net);
	if (display_init(&g.d, &spec) < 0)
		pdie(PX_FAIL, "%s", err_msg());
	size();

	struct bus *bus = NULL;
	struct bus_sub *sub = NULL;
	if (!g.once) { /* subscribed before loading: nothing falls in between */
		char topic[300];
		snprintf(topic, sizeof topic, "invocation:%s", g.name);
		if (bus_check_topic(topic, strlen(topic)) < 0)
			pdie(PX_USAGE, "network '%s': %s", g.name, err_msg());
		bus = prog_bus_open("cannot follow the network");
		const char *pats[] = { topic };
		if (!bus || bus_subscribe(bus, pats, 1, &sub) < 0)
			pdie(PX_CONFIG, "bus: %s", bus ? err_msg() : "unavailable");
	}
	load();
	if (g.once)
		draw();
	else
		follow(sub);
	if (prog_verbose > 0)
		pwarn("%ld frames", g.frames);

	bus_unsubscribe(sub);
	bus_close(bus);
	display_free(&g.d);
	free(g.prompt);
	catalogue_free(g.cat);
	if (db_close(g.db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	return prog_finish(g.status);
}
