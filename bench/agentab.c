/* agentab: the ability of bench/agents, for the agent and its baseline.
 *
 * It reads its payload; if it has "t" (ns since the epoch, CLOCK_REALTIME,
 * stamped by `agentlat pub` just before the publish), it appends now - t
 * (us) to $LAT_FILE, else the minute and the ms within it to $MINUTE_FILE
 * (a cron fire); it prints {}.
 *
 * Its clock is read first thing in main(), and it is linked statically
 * with nothing but libc (make builds it with -static), so what it measures
 * is the way from the publish to the ability, not a dynamic loader's work
 * in the ability (relocating libjq took longer than the runner's part).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void append(const char *path, const char *line)
{
	if (!path)
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, strlen(line)) < 0)
		perror(path);
	close(fd);
}

int main(void)
{
	int64_t t1 = now_ns();
	char buf[4096];
	size_t n = 0;
	ssize_t k;
	while (n < sizeof buf - 1 && (k = read(0, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = 0;
	char line[64];
	const char *t = strstr(buf, "\"t\":");
	if (t) {
		double t0 = strtod(t + 4, NULL);
		snprintf(line, sizeof line, "%lld\n", (long long)((t1 - (int64_t)t0) / 1000));
		append(getenv("LAT_FILE"), line);
	} else {
		snprintf(line, sizeof line, "%lld %lld\n", (long long)(t1 / 1000000000 / 60),
		         (long long)(t1 / 1000000 % 60000));
		append(getenv("MINUTE_FILE"), line);
	}
	puts("{}");
	return 0;
}
