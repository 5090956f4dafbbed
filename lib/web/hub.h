/* hub: the live displays. One thread follows invocation:* on the bus and
 * keeps, per network and display (grid RxC, single O/S), one lib/display
 * state shared by every screen showing it; each change goes to them as an
 * SSE event, written by that thread straight to the screens' sockets
 * (tap.h). A display nobody shows any more is kept a minute, for a screen
 * that comes back. Private to lib/web.
 *
 * Events: "slots" {network, run_id, prompt, slots: [view...]} (the whole
 * display: on joining and when a newer run resets it) and "slot" {view}
 * (display.h's display_view()), each with id "EPOCH-N"; those the bus
 * brought have "at", the time the runner published the change. A screen that
 * reconnects sends the last id it saw (Last-Event-ID); it gets the whole
 * display again unless nothing changed since that id.
 */
#ifndef PANIC_WEB_HUB_H
#define PANIC_WEB_HUB_H

#include <jv.h>

struct hub;
struct web_server;
struct web_req;
struct display_spec;

int hub_start(struct hub **out, struct web_server *srv);
/* Ends the thread (streams stay until the server closes them). */
void hub_stop(struct hub *h);
void hub_free(struct hub *h);
/* Answers REQ with the live stream of network NAME (id NET_ID) shown as
 * SPEC: the hub takes the connection's socket and writes to it. */
int hub_join(struct hub *h, struct web_req *req, const char *name, const char *net_id,
             const struct display_spec *spec);
/* The screens following now. */
long hub_screens(struct hub *h);
/* The display as it is now: {network, run_id, prompt, slots}, from the
 * state file (REQ's connection); jv_invalid() with err_msg(). */
jv hub_snapshot(struct web_req *req, const char *name, const char *net_id,
                const struct display_spec *spec);

#endif
