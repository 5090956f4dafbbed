/* agentlat: the helpers of bench/agents (its ability is agentab.c).
 *
 *   agentlat pub TOPIC N RATE publishes N events {"t": NS, "n": I} on TOPIC,
 *                             RATE a second, stamping each just before it goes
 *   agentlat base PATTERN PATH
 *                             the baseline: subscribes to PATTERN and starts
 *                             PATH (the ability, with the event's data on its
 *                             stdin) for each event, by posix_spawn, nothing
 *                             else: the floor of event-to-ability latency
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "json/json.h"

extern char **environ;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct bus *open_bus(void)
{
	struct bus *b;
	const char *dir = getenv("PANIC_BUS");
	if (!dir || bus_open(&b, dir, 0) < 0) {
		fprintf(stderr, "agentlat: no bus\n");
		exit(1);
	}
	return b;
}

static int pub(const char *topic, long n, double rate)
{
	struct bus *b = open_bus();
	int64_t gap = (int64_t)(1e9 / rate), next = now_ns();
	for (long i = 0; i < n; i++) {
		while (now_ns() < next) {
			int64_t d = next - now_ns();
			struct timespec ts = { d / 1000000000, d % 1000000000 };
			nanosleep(&ts, NULL);
		}
		jv data = json_set(json_set(jv_object(), "t", jv_number((double)now_ns())), "n",
		                   jv_number((double)i));
		bus_publish(b, topic, data, NULL);
		bus_flush(b);
		jv_free(data);
		next += gap;
	}
	bus_close(b);
	return 0;
}

static const char *ability_path;
static int events;

static int on_event(const char *line, size_t n, void *ctx)
{
	(void)ctx;
	jv ev = jv_parse_sized(line, (int)n);
	jv data = json_get(ev, "data");
	size_t tn;
	char *text = json_dump(data, &tn);
	int in[2];
	if (pipe(in) == 0) {
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
		posix_spawn_file_actions_addclose(&fa, in[1]);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		char *argv[] = { (char *)ability_path, NULL };
		pid_t pid;
		if (posix_spawn(&pid, ability_path, &fa, NULL, argv, environ) == 0)
			events++;
		posix_spawn_file_actions_destroy(&fa);
		close(in[0]);
		if (text && write(in[1], text, strlen(text)) < 0)
			perror("write");
		close(in[1]);
	}
	free(text);
	jv_free(data);
	jv_free(ev);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return 0;
}

static int base(const char *pattern, const char *path)
{
	struct bus *b = open_bus();
	struct bus_sub *s;
	const char *pats[] = { pattern };
	if (bus_subscribe(b, pats, 1, &s) < 0)
		return 1;
	ability_path = path;
	signal(SIGPIPE, SIG_IGN);
	puts("ready");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { bus_sub_fd(s), POLLIN, 0 };
		if (poll(&p, 1, 200) < 0 && errno != EINTR)
			break;
		bus_sub_read(s, on_event, NULL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "pub"))
		return pub(argv[2], atol(argv[3]), atof(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "base"))
		return base(argv[2], argv[3]);
	fprintf(stderr, "usage: agentlat pub TOPIC N RATE | base PATTERN PATH\n");
	return 2;
}
