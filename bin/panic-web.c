/* panic-web: the browser face of panic (DESIGN.md §6): gallery displays,
 * networks with their status and a prompt box, runs waiting for a human,
 * the agents admin, JSON under /api/. The
 * server is lib/web's; this program reads its options, finds the token,
 * and serves until a stop signal. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/keys.h"
#include "base/path.h"
#include "cli/prog.h"
#include "model/catalogue.h"
#include "state/db.h"
#include "web/web.h"

static const char usage[] =
	"usage: panic-web [OPTION]...\n"
	"Serve panic's pages: gallery displays of networks (live), the networks\n"
	"with their runners' status and a prompt box, workflow runs waiting for a\n"
	"human with a form to answer each, the agents admin, and their JSON under\n"
	"/api/.\n"
	"\n"
	"      --listen ADDR:PORT  where to listen (default 127.0.0.1:8080; port 0:\n"
	"                          any free one); an address other than loopback\n"
	"                          needs a token\n"
	"      --root DIR          the pages, styles and scripts (default\n"
	"                          ../share/panic/web beside the program; built-in\n"
	"                          copies serve what it lacks)\n"
	"      --threads N         threads serving requests (default 2)\n"
	"      --ping SECS         between keep-alive lines of live streams (15)\n"
	"      --models FILE       user catalogue (default $PANIC_MODELS or\n"
	"                          ~/.config/panic/models.json)\n"
	"      --db PATH           state file (default $PANIC_DB)\n"
	"      --bus DIR           the bus (default $PANIC_BUS)\n"
	"  -q, --quiet             less on stderr    -v, --verbose  more on stderr\n"
	"  -h, --help              this help         --version      the version\n"
	"\n"
	"The token is PANIC_WEB_TOKEN, from the environment or the keys file;\n"
	"when there is one every request must carry it (Authorization: Bearer,\n"
	"or ?token= once, which sets a cookie).\n"
	"\n"
	"Exit: 0 stopped by a signal, 2 usage, 3 no token for a public address,\n"
	"the address cannot be used, or a state error.\n";

enum { O_LISTEN = 256, O_ROOT, O_THREADS, O_PING, O_MODELS };

static const struct option longopts[] = {
	{ "listen", required_argument, 0, O_LISTEN },
	{ "root", required_argument, 0, O_ROOT },
	{ "threads", required_argument, 0, O_THREADS },
	{ "ping", required_argument, 0, O_PING },
	{ "models", required_argument, 0, O_MODELS },
	PROG_OPTIONS,
	PROG_BUS_OPTION,
	{ 0, 0, 0, 0 },
};

/* ../share/panic/web beside this program, or NULL. */
static char *default_root(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	snprintf(path, sizeof path, "%s/../share/panic/web", exe);
	return realpath(path, NULL);
}

int main(int argc, char **argv)
{
	prog_init("panic-web");
	struct web_config cfg = { .listen = "127.0.0.1:8080", .threads = 2 };
	const char *models = NULL;
	char *root = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN: cfg.listen = optarg; break;
		case O_ROOT: cfg.root = optarg; break;
		case O_THREADS: cfg.threads = (int)prog_atol("--threads", optarg, 1, 64); break;
		case O_PING: cfg.ping_ms = (long)prog_ms("--ping", optarg, 3600, 1); break;
		case O_MODELS: models = optarg; break;
		default: prog_option(c, usage);
		}
	}
	if (optind != argc)
		pusage("unexpected argument '%s'", argv[optind]);
	int loopback = web_listen_is_loopback(cfg.listen);
	if (loopback < 0)
		pusage("%s", err_msg());
	cfg.token = keys_get("PANIC_WEB_TOKEN");
	if (!cfg.token && keys_refused())
		pdie(PX_CONFIG, "keys: %s", err_msg());
	if (cfg.token && strlen(cfg.token) < 16)
		pdie(PX_CONFIG, "PANIC_WEB_TOKEN is too short (16 characters at least)");
	if (!loopback && !cfg.token)
		pdie(PX_CONFIG, "listening on %s needs a token: set PANIC_WEB_TOKEN in the environment or the keys file",
		     cfg.listen);
	struct stat st;
	int bad_root = !cfg.root ? 0 : stat(cfg.root, &st) < 0 ? errno
	                             : !S_ISDIR(st.st_mode)  ? ENOTDIR : 0;
	if (bad_root)
		pwarn("--root %s: %s: serving the built-in pages", cfg.root, strerror(bad_root));
	if (!cfg.root)
		cfg.root = root = default_root();
	struct catalogue *cat;
	if (catalogue_load(&cat, models) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	cfg.cat = cat;
	char *db = path_db(prog_db);
	char *bus = path_bus(prog_bus);
	if (!db)
		pdie(PX_CONFIG, "state: %s", err_msg());
	/* The state file opens here once, to report a bad one before serving. */
	struct db *check = prog_state(DB_CREATE);
	db_close(check);
	cfg.db_path = db;
	cfg.bus_dir = bus;
	int sfd = prog_signalfd();
	struct web_server *srv;
	if (web_start(&srv, &cfg) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	if (prog_verbose >= 0)
		pwarn("listening on %s", web_url(srv));
	struct pollfd p = { .fd = sfd, .events = POLLIN };
	while (!prog_signalled) {
		if (poll(&p, 1, -1) > 0 && (p.revents & POLLIN))
			prog_signalled = prog_signal_read(sfd);
	}
	web_stop(srv);
	catalogue_free(cat);
	free(db);
	free(bus);
	free(root);
	return prog_finish(PX_OK);
}
