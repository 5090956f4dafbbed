/* busbench: one publisher, SUBS subscribers, on a fifo, panic's bus,
 * mosquitto (MQTT QoS 0) or nats-server, each through its own client.
 *
 *   busbench SYSTEM tput SUBS N     N events back to back; prints delivered
 *                                   events per second per subscriber
 *   busbench SYSTEM lat SUBS N RATE N events paced at RATE a second; prints
 *                                   publish-to-receive p50 and p99 (us)
 *
 * SYSTEM: raw (a bare fifo, one subscriber: the ceiling), panic (lib/bus;
 * $PANIC_BUS), mqtt or nats ($PORT on 127.0.0.1). Every event carries the
 * same ~100-byte payload with its sequence number and send time; each
 * subscriber is a process that says when it is ready, and reports how many
 * events it got, when the last came, and the latencies it saw.
 * Output: one line "events_per_s loss_pct p50_us p99_us".
 */
#include <errno.h>
#include <fcntl.h>
#include <jv.h>
#include <mosquitto.h>
#include <nats/nats.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "json/json.h"

static const char *sys_name;
static long n_events;
static int ready_fd, result_fd;

struct result {
	long count;
	int64_t last_ns;
	long nlat;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "busbench: %s: %s\n", sys_name, what);
	exit(1);
}

/* The subscriber's tally. */
static struct result res;
static int64_t *lats;

static int payload(char *buf, size_t size, long seq)
{
	return snprintf(buf, size, "{\"seq\":%ld,\"t\":%lld,\"pad\":\"%s\"}", seq,
	                (long long)now_ns(), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}

/* Counts one received message; 1 once the last one has come. */
static int got(const char *msg, size_t n)
{
	int64_t t = now_ns();
	const char *p = memmem(msg, n, "\"seq\":", 6);
	const char *q = memmem(msg, n, "\"t\":", 4);
	if (!p || !q)
		return 0;
	long seq = strtol(p + 6, NULL, 10);
	int64_t sent = strtoll(q + 4, NULL, 10);
	if (res.nlat < n_events)
		lats[res.nlat++] = t - sent;
	res.count++;
	res.last_ns = t;
	return seq == n_events - 1;
}

static void report(void)
{
	if (write(result_fd, &res, sizeof res) != sizeof res ||
	    write(result_fd, lats, (size_t)res.nlat * sizeof *lats) < 0)
		die("report");
	exit(0);
}

static void say_ready(void)
{
	if (write(ready_fd, "r", 1) != 1)
		die("ready");
}

/* Idle limits: give up 2 s after the last event, or 20 s with none. */
static int idle(int64_t start)
{
	int64_t t = now_ns();
	return res.count ? t - res.last_ns > 2000000000 : t - start > 20000000000;
}

/* ---- raw fifo ---- */

static char raw_path[256];

static void raw_sub(void)
{
	/* Non-blocking, or open() would wait for the writer, who waits for us. */
	int fd = open(raw_path, O_RDONLY | O_NONBLOCK);
	if (fd < 0 || fcntl(fd, F_SETFL, 0) < 0)
		die("open fifo");
	say_ready();
	char buf[65536];
	size_t have = 0;
	for (;;) {
		ssize_t k = read(fd, buf + have, sizeof buf - have);
		if (k == 0 && !res.count) { /* no writer yet */
			usleep(1000);
			continue;
		}
		if (k <= 0)
			break;
		have += (size_t)k;
		char *s = buf, *nl;
		while ((nl = memchr(s, '\n', have - (size_t)(s - buf)))) {
			if (got(s, (size_t)(nl - s)))
				report();
			s = nl + 1;
		}
		have -= (size_t)(s - buf);
		memmove(buf, s, have);
	}
	report();
}

static int raw_fd = -1;

static void raw_pub(const char *msg, int n)
{
	char line[256];
	memcpy(line, msg, (size_t)n);
	line[n] = '\n';
	if (raw_fd < 0 && (raw_fd = open(raw_path, O_WRONLY)) < 0)
		die("open fifo for writing");
	if (write(raw_fd, line, (size_t)n + 1) != n + 1)
		die("write");
}

/* ---- panic's bus ---- */

static struct bus *bus;
static int paced;

static int panic_line(const char *line, size_t n, void *ctx)
{
	(void)ctx;
	return got(line, n);
}

static void panic_sub(void)
{
	const char *pat[] = { "bench" };
	struct bus_sub *s;
	if (bus_subscribe(bus, pat, 1, &s) < 0)
		die("subscribe");
	say_ready();
	int64_t start = now_ns();
	for (;;) {
		struct pollfd p = { .fd = bus_sub_fd(s), .events = POLLIN };
		poll(&p, 1, 100);
		if (bus_sub_read(s, panic_line, NULL) == 1 || idle(start))
			break;
	}
	bus_unsubscribe(s);
	report();
}

static void panic_pub(const char *msg, int n)
{
	if (bus_publish_text(bus, "bench", msg, (size_t)n, NULL) < 0)
		die("publish");
	if (paced) /* a program flushes when it is about to wait */
		bus_flush(bus);
}

static void panic_pub_end(void)
{
	bus_flush(bus);
}

/* ---- MQTT ---- */

static int port;
static volatile int mq_ready, mq_done;

static void mq_on_message(struct mosquitto *m, void *u, const struct mosquitto_message *msg)
{
	(void)m, (void)u;
	if (got(msg->payload, (size_t)msg->payloadlen))
		mq_done = 1;
}

static void mq_on_subscribe(struct mosquitto *m, void *u, int mid, int n, const int *q)
{
	(void)m, (void)u, (void)mid, (void)n, (void)q;
	mq_ready = 1;
}

static struct mosquitto *mq_connect(void)
{
	struct mosquitto *m = mosquitto_new(NULL, true, NULL);
	if (!m || mosquitto_connect(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS)
		die("connect");
	return m;
}

static void mqtt_sub(void)
{
	struct mosquitto *m = mq_connect();
	mosquitto_message_callback_set(m, mq_on_message);
	mosquitto_subscribe_callback_set(m, mq_on_subscribe);
	if (mosquitto_subscribe(m, NULL, "bench", 0) != MOSQ_ERR_SUCCESS)
		die("subscribe");
	while (!mq_ready)
		if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
			die("loop");
	say_ready();
	int64_t start = now_ns();
	while (!mq_done && !idle(start))
		mosquitto_loop(m, 100, 1);
	report();
}

static struct mosquitto *mq_pub;

static void mqtt_pub(const char *msg, int n)
{
	if (!mq_pub) {
		mq_pub = mq_connect();
		mosquitto_loop_start(mq_pub);
	}
	int rc;
	while ((rc = mosquitto_publish(mq_pub, NULL, "bench", n, msg, 0, false)) ==
	       MOSQ_ERR_NOMEM)
		usleep(100);
	if (rc != MOSQ_ERR_SUCCESS)
		die("publish");
}

static void mqtt_pub_end(void)
{
	mosquitto_disconnect(mq_pub);
	mosquitto_loop_stop(mq_pub, false);
}

/* ---- NATS ---- */

static natsConnection *nats_connect(void)
{
	natsConnection *nc;
	char url[64];
	snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
	if (natsConnection_ConnectTo(&nc, url) != NATS_OK)
		die("connect");
	return nc;
}

static void nats_sub(void)
{
	natsConnection *nc = nats_connect();
	natsSubscription *sub;
	if (natsConnection_SubscribeSync(&sub, nc, "bench") != NATS_OK ||
	    natsConnection_Flush(nc) != NATS_OK)
		die("subscribe");
	say_ready();
	int64_t start = now_ns();
	for (;;) {
		natsMsg *msg;
		natsStatus s = natsSubscription_NextMsg(&msg, sub, 100);
		if (s == NATS_OK) {
			int last = got(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
			natsMsg_Destroy(msg);
			if (last)
				break;
		} else if (s != NATS_TIMEOUT && s != NATS_SLOW_CONSUMER) {
			die("receive");
		}
		if (idle(start))
			break;
	}
	report();
}

static natsConnection *nats_pubc;

static void nats_pub(const char *msg, int n)
{
	if (!nats_pubc)
		nats_pubc = nats_connect();
	if (natsConnection_Publish(nats_pubc, "bench", msg, n) != NATS_OK)
		die("publish");
}

static void nats_pub_end(void)
{
	natsConnection_Flush(nats_pubc);
}

/* ---- the run ---- */

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: busbench raw|panic|mqtt|nats tput|lat SUBS N [RATE]\n");
		return 2;
	}
	sys_name = argv[1];
	int lat = !strcmp(argv[2], "lat");
	int subs = atoi(argv[3]);
	n_events = atol(argv[4]);
	double rate = argc > 5 ? atof(argv[5]) : 0;
	paced = rate > 0;
	port = getenv("PORT") ? atoi(getenv("PORT")) : 0;
	signal(SIGPIPE, SIG_IGN);
	lats = malloc((size_t)n_events * sizeof *lats);

	void (*sub)(void), (*pub)(const char *, int), (*pub_end)(void) = NULL;
	if (!strcmp(sys_name, "raw")) {
		snprintf(raw_path, sizeof raw_path, "/tmp/busbench.%d.fifo", (int)getpid());
		if (mkfifo(raw_path, 0600) < 0)
			die("mkfifo");
		sub = raw_sub, pub = raw_pub;
	} else if (!strcmp(sys_name, "panic")) {
		if (bus_open(&bus, getenv("PANIC_BUS"), 0) < 0)
			die("bus");
		sub = panic_sub, pub = panic_pub, pub_end = panic_pub_end;
	} else if (!strcmp(sys_name, "mqtt")) {
		mosquitto_lib_init();
		sub = mqtt_sub, pub = mqtt_pub, pub_end = mqtt_pub_end;
	} else if (!strcmp(sys_name, "nats")) {
		sub = nats_sub, pub = nats_pub, pub_end = nats_pub_end;
	} else {
		die("unknown system");
	}

	int ready[2], results[64][2];
	pid_t pids[64];
	if (subs < 1 || subs > 64 || pipe(ready) < 0)
		die("subs");
	for (int i = 0; i < subs; i++) {
		if (pipe(results[i]) < 0)
			die("pipe");
		if ((pids[i] = fork()) == 0) {
			ready_fd = ready[1];
			result_fd = results[i][1];
			sub();
		}
		close(results[i][1]);
	}
	close(ready[1]);
	for (int i = 0; i < subs; i++) {
		char c;
		if (read(ready[0], &c, 1) != 1)
			die("a subscriber failed to start");
	}
	if (strcmp(sys_name, "raw")) /* let brokers settle the subscriptions */
		usleep(200000);

	char msg[256];
	int64_t start = now_ns(), gap = rate > 0 ? (int64_t)(1e9 / rate) : 0;
	for (long i = 0; i < n_events; i++) {
		if (gap) {
			int64_t due = start + i * gap;
			struct timespec ts = { (time_t)(due / 1000000000), (long)(due % 1000000000) };
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		int n = payload(msg, sizeof msg, i);
		pub(msg, n);
	}
	if (pub_end)
		pub_end();

	long total = 0;
	int64_t last = start;
	int64_t *all = malloc((size_t)n_events * (size_t)subs * sizeof *all);
	long nall = 0;
	for (int i = 0; i < subs; i++) {
		struct result r;
		if (read(results[i][0], &r, sizeof r) != sizeof r)
			die("a subscriber failed");
		size_t want = (size_t)r.nlat * sizeof *all, got_bytes = 0;
		while (got_bytes < want) {
			ssize_t k = read(results[i][0], (char *)(all + nall) + got_bytes, want - got_bytes);
			if (k <= 0)
				die("a subscriber's latencies");
			got_bytes += (size_t)k;
		}
		nall += r.nlat;
		total += r.count;
		if (r.last_ns > last)
			last = r.last_ns;
		waitpid(pids[i], NULL, 0);
	}
	if (raw_path[0])
		unlink(raw_path);
	qsort(all, (size_t)nall, sizeof *all, cmp64);
	double secs = (double)(last - start) / 1e9;
	double per_sub = (double)total / subs;
	printf("%.0f %.2f %.1f %.1f\n", lat ? rate : per_sub / secs,
	       100.0 * (1 - per_sub / (double)n_events),
	       nall ? (double)all[nall / 2] / 1000 : 0,
	       nall ? (double)all[(long)(nall * 0.99)] / 1000 : 0);
	return 0;
}
