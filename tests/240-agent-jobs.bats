#!/usr/bin/env bats
# agent-run: several jobs of one agent in flight at once (-j/--jobs, the
# agent's concurrency), the limit kept, queueing in order beyond it,
# records given out in the order the jobs started, timer jobs of one
# responsibility never overlapping, and every job stopped with its agent.

bats_require_minimum_version 1.5.0
load helper

ability() {
	mkdir -p "$XDG_CONFIG_HOME/panic/abilities"
	printf '#!/bin/sh\n%s\n' "$2" > "$XDG_CONFIG_HOME/panic/abilities/$1"
	chmod 755 "$XDG_CONFIG_HOME/panic/abilities/$1"
}
state() { [ "$(agent-ctl status "$1" | jq -r .state)" = "$2" ]; }
count() { [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
lines() { wc -l < "$1" 2>/dev/null || echo 0; }
events() { sql "select event from agent_events where agent = '$1' order by at, id" | paste -sd' '; }
# hold: an ability that notes its payload in ./started, then waits for
# ./go (a barrier the test opens) before it answers with its payload
# (abilities run in the runner's directory, the test's)
hold_ability() {
	ability hold 'p=$(cat); echo "$p" >> started; while [ ! -e go ]; do sleep 0.02; done; echo "$p"'
}
holding() { pgrep -f "$XDG_CONFIG_HOME/panic/abilities/hold" | wc -l; }
settle() { sleep 0.4; }

@test "events arrive together: several jobs at once, as overlapping processes, up to -j; the rest wait in order" {
	hold_ability
	agent-ctl add par -a hold -r 'event:work' --retry fixed:0:0 --status active > /dev/null
	agent-run par -j 3 > out 2> err &
	wait_for state par running
	for i in 1 2 3 4 5; do panic-bus pub work "{\"n\":$i}"; done
	wait_for count started 3
	settle
	# three at once, no more: the limit
	assert_equal "$(lines started)" 3
	assert_equal "$(holding)" 3
	assert_equal "$(agent-ctl status par | jq -c '[.running, .queued]')" '[3,2]'
	assert_equal "$(jq -c .n started | sort | paste -sd' ')" "1 2 3"
	touch go
	wait_for count out 5
	kill %1
	wait
	# the two that waited started after the first three (the runner starts
	# them in order: their records say so; the shells may note them in
	# either order)
	assert_equal "$(jq -c .n started | head -3 | sort | paste -sd' ')" "1 2 3"
	assert_equal "$(jq -c .n started | tail -2 | sort | paste -sd' ')" "4 5"
	assert_equal "$(jq -c '[.payload.n, .state]' out | paste -sd' ')" \
		'[1,"completed"] [2,"completed"] [3,"completed"] [4,"completed"] [5,"completed"]'
	assert_equal "$(events par)" "started completed completed completed completed completed stopped"
}

@test "records come out in the order the jobs started; their events as each ends" {
	ability nap 'p=$(cat); sleep "$(echo "$p" | jq -r .nap)"; echo "$p"'
	agent-ctl add filter -a nap -r stdin --status active > /dev/null
	printf '{"n":1,"nap":1.5}\n{"n":2,"nap":1}\n{"n":3,"nap":0}\n{"n":4,"nap":0.5}\n' > in
	run --separate-stderr agent-run filter --exit-on-eof < in
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.n, .state, .result.n]' | paste -sd' ')" \
		'[1,"completed",1] [2,"completed",2] [3,"completed",3] [4,"completed",4]'
	# they ran at once: the event log has them as they ended
	ended() { sql "select group_concat(n, ' ') from (select json_extract(payload, '$.n') as n from agent_events where event = 'completed' and id > '$1' order by at, id)"; }
	assert_equal "$(ended '')" "3 4 2 1"
	# -j 1: one at a time, as before
	last=$(sql "select max(id) from agent_events")
	run --separate-stderr agent-run filter -j 1 --exit-on-eof < in
	assert_equal "$(echo "$output" | jq -c .n | paste -sd' ')" "1 2 3 4"
	assert_equal "$(ended "$last")" "1 2 3 4"
}

@test "the agent's concurrency wins over -j; changed while it runs, it applies once its jobs are done" {
	hold_ability
	agent-ctl add one -a hold -r 'event:work' --retry fixed:0:0 --concurrency 1 --status active > /dev/null
	agent-run --all -j 4 --poll 100ms > out 2> err &
	wait_for state one running
	for i in 1 2 3; do panic-bus pub work "{\"n\":$i}"; done
	wait_for count started 1
	settle
	assert_equal "$(lines started)" 1
	assert_equal "$(holding)" 1
	# by hand in sqlite3: rev moves, the agent restarts when no job is in flight
	sql "update agents set concurrency = 3 where name = 'one'"
	settle
	assert_equal "$(lines started)" 1
	touch go
	wait_for count out 3
	rm go
	for i in 4 5 6 7; do panic-bus pub work "{\"n\":$i}"; done
	wait_for count started 6
	settle
	assert_equal "$(lines started)" 6
	assert_equal "$(holding)" 3
	touch go
	wait_for count out 7
	kill %1
	wait
	assert_equal "$(jq -c .payload.n out | paste -sd' ')" "1 2 3 4 5 6 7"
	assert_equal "$(events one | tr ' ' '\n' | grep -c started)" 2
}

@test "stop, deactivation, SIGTERM: every job in flight is cancelled, its process group killed; the queue is dropped" {
	ability hang 'p=$(cat); sleep 3131 & sleep 3132; echo "$p"'
	agent-ctl add h -a hang -r 'event:work' --retry fixed:0:0 --status active > /dev/null
	agent-ctl add k -a hang -r 'event:kill' --retry fixed:0:0 --status active > /dev/null
	agent-run --all -j 3 > out 2> err &
	pid=$!
	wait_for state h running
	wait_for state k running
	for i in 1 2 3 4; do panic-bus pub work "{\"n\":$i}"; done
	for i in 1 2; do panic-bus pub kill "{\"n\":$i}"; done
	wait_for bash -c '[ "$(pgrep -fc "sleep 313[2]")" = 5 ]'
	# deactivating h stops its three, and drops the one that waited; k goes on
	agent-ctl deactivate h
	wait_for state h stopped
	wait_for count out 3
	assert_equal "$(pgrep -fc 'sleep 313[2]')" 2
	assert_equal "$(jq -c 'select(.agent == "h") | [.payload.n, .state, .error.kind]' out | paste -sd' ')" \
		'[1,"cancelled","cancelled"] [2,"cancelled","cancelled"] [3,"cancelled","cancelled"]'
	assert_equal "$(sql "select detail from agent_events where agent = 'h' and event = 'stopped'")" '"deactivated"'
	# SIGTERM: k's two are cancelled, nothing of theirs lives on
	kill -TERM "$pid"
	wait "$pid"
	assert_equal "$(jq -c 'select(.agent == "k") | [.payload.n, .state]' out | paste -sd' ')" '[1,"cancelled"] [2,"cancelled"]'
	run pgrep -f 'sleep 313[12]'
	assert_failure
	assert_equal "$(events h)" "started cancelled cancelled cancelled stopped"
	assert_equal "$(events k)" "started cancelled cancelled stopped"
}

@test "a cron job never overlaps itself: the next fire waits for the last run, and is queued once" {
	hold_ability
	agent-ctl add tick -a hold -r 'cron:* * * * *' -r 'event:work' --retry fixed:0:0 --status active > /dev/null
	echo 2026-06-01T11:59:59Z > clock
	PANIC_CLOCK=$T/clock agent-run tick -j 4 > out 2> err &
	wait_for state tick running
	echo 2026-06-01T12:00:00Z > clock.new && mv clock.new clock
	wait_for count started 1
	echo 2026-06-01T12:01:00Z > clock.new && mv clock.new clock
	settle
	echo 2026-06-01T12:02:00Z > clock.new && mv clock.new clock
	settle
	# the minute's run still holds: the next waits (once), but an event runs beside it
	assert_equal "$(lines started)" 1
	panic-bus pub work '{"n":1}'
	wait_for count started 2
	settle
	assert_equal "$(lines started)" 2
	touch go
	wait_for count out 3
	settle
	kill %1
	wait
	assert_equal "$(jq -r '[.responsibility, (.scheduled_at // (.payload.n | tostring))] | join(" ")' out | paste -sd'|')" \
		"cron:* * * * * 2026-06-01T12:00:00.000Z|event:work 1|cron:* * * * * 2026-06-01T12:01:00.000Z"
}

@test "one job crashes while others run: they go on; it is retried after the restart" {
	ability mixed 'p=$(cat); if [ "$(echo "$p" | jq -r .crash)" = true ] && [ ! -e crashed ]; then touch crashed; kill -SEGV $$; fi; echo "$p" >> started; while [ ! -e go ]; do sleep 0.02; done; echo "$p"'
	agent-ctl add m -a mixed -r stdin --retry fixed:1:0 --status active > /dev/null
	mkfifo feed
	agent-run m -j 3 --restart-delay 50ms < feed > out 2> err &
	exec 7> feed
	echo '{"n":1}' >&7
	echo '{"n":2}' >&7
	wait_for count started 2
	echo '{"n":3,"crash":true}' >&7
	# the crash, the restart, the retry: n 3 holds beside the two that never stopped
	wait_for count started 3
	assert_equal "$(pgrep -fc "$XDG_CONFIG_HOME/panic/abilities/mixed")" 3
	touch go
	exec 7>&-
	wait_for count out 3
	kill %1 2>/dev/null || true
	wait
	assert_equal "$(jq -c '[.n, .state, .attempts]' out | paste -sd' ')" '[1,"completed",1] [2,"completed",1] [3,"completed",2]'
	assert_equal "$(events m)" "started crashed restarted completed completed completed stopped"
	grep -q "agent m: crashed: stdin: mixed: killed by signal 11" err
}

@test "-j: a whole number from 1 to 256, else a usage error" {
	agent-ctl add bot -a echo -r stdin --status active > /dev/null
	for bad in 0 257 -1 two 1.5 ''; do
		run --separate-stderr agent-run bot -j "$bad" < /dev/null
		assert_failure 2
		[[ $stderr == "agent-run: --jobs: "* ]]
	done
	run agent-run bot --jobs 256 --exit-on-eof <<< '{"n":1}'
	assert_success
	assert_equal "$(echo "$output" | jq -c .result)" '{"n":1}'
}

@test "a payload larger than a pipe holds reaches the ability whole; an ability that never reads it harms nothing" {
	ability count 'printf "{\"bytes\":%d}\n" "$(wc -c)"'
	ability deaf 'echo "{\"ok\":true}"'
	agent-ctl add counter -a count -r stdin --status active > /dev/null
	agent-ctl add deaf -a deaf -r stdin --retry fixed:0:0 --status active > /dev/null
	big=$(head -c 300000 /dev/zero | tr '\0' b)
	echo "{\"blob\":\"$big\"}" > rec
	run --separate-stderr agent-run counter --exit-on-eof < rec
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.state, .result.bytes]')" '["completed",300011]'
	run --separate-stderr agent-run deaf --exit-on-eof < rec
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.state, .result]')" '["completed",{"ok":true}]'
	assert_equal "$stderr" ""
}
