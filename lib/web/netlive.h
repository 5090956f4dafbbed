/* netlive: the networks page's live status. One thread follows the
 * runners' events on the bus (invocation:*, run:*) and, after each
 * burst, sends every networks page the status of each network that
 * moved, as panic-loop --status reports it: an SSE event "status"
 * {network, status}. Private to lib/web. */
#ifndef PANIC_WEB_NETLIVE_H
#define PANIC_WEB_NETLIVE_H

struct netlive;
struct web_server;
struct web_req;

int netlive_start(struct netlive **out, struct web_server *srv);
/* Ends the thread and lets go of its streams. */
void netlive_free(struct netlive *nl);
/* Answers REQ with the stream: each network's status now, then its
 * changes. */
int netlive_join(struct netlive *nl, struct web_req *req);

#endif
