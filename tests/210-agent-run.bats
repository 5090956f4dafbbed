#!/usr/bin/env bats
# agent-run: one agent in the foreground, or the manager of them all:
# triggers (stdin, event, watch, every; cron in 230), abilities from the
# allow-list with their payload, environment and limits, retries,
# last_error, agent_events and agent:NAME events, restarts on change,
# crash restarts and flapping, systemd's notify protocol, stopping.

bats_require_minimum_version 1.5.0
load helper

fifos() { ls "$PANIC_BUS" 2>/dev/null | grep -c '^sub\.' || true; }
more_fifos() { [ "$(fifos)" -gt "$1" ]; }
sub_bg() {
	local out=$1 before
	shift
	before=$(fifos)
	panic-bus sub "$@" > "$out" &
	wait_for more_fifos "$before"
}

ability() {
	mkdir -p "$XDG_CONFIG_HOME/panic/abilities"
	printf '#!/bin/sh\n%s\n' "$2" > "$XDG_CONFIG_HOME/panic/abilities/$1"
	chmod 755 "$XDG_CONFIG_HOME/panic/abilities/$1"
}

# state NAME STATE: agent-ctl status says NAME is in STATE
state() { [ "$(agent-ctl status "$1" | jq -r .state)" = "$2" ]; }
# count FILE N: FILE has at least N lines
count() { [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
events() { sql "select event from agent_events where agent = '$1' order by at, id" | paste -sd' '; }

@test "agent-run NAME: a record on stdin runs its responsibility; the record comes back with the result" {
	agent-ctl add bot -a echo -r stdin -r every:1h --status active > /dev/null
	run --separate-stderr agent-run bot --exit-on-eof <<< '{"id":7,"responsibility":"stdin","text":"hi"}'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'del(.started_at, .duration_ms)')" \
		'{"id":7,"responsibility":"stdin","text":"hi","agent":"bot","state":"completed","result":{"id":7,"responsibility":"stdin","text":"hi"},"error":null,"attempts":1}'
	assert_equal "$(events bot)" "started completed stopped"
	assert_equal "$(sql "select responsibility, ability, attempts, json_extract(result, '$.text') from agent_events where event = 'completed'")" \
		"stdin|echo|1|hi"
	# one responsibility of kind stdin: the record need not name it
	run agent-run bot --exit-on-eof <<< '{"text":"again"}'
	assert_equal "$(echo "$output" | jq -r .result.text)" again
}

@test "a job asked for on stdin that fails makes the exit status 1; the others still run and come back" {
	ability maybe 'read -r p; case $p in *boom*) echo "it broke" >&2; exit 3;; esac; echo "$p"'
	agent-ctl add bot -a maybe -r stdin --retry fixed:1:0 --status active > /dev/null
	run --separate-stderr agent-run bot --exit-on-eof < <(printf '%s\n' '{"n":1}' '{"n":2,"x":"boom"}' '{"n":3}')
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '[.n, .state]' | sort | paste -sd' ')" '[1,"completed"] [2,"failed"] [3,"completed"]'
	# all well: 0
	run --separate-stderr agent-run bot --exit-on-eof <<< '{"n":4}'
	assert_success
}

@test "an ability gets the payload on stdin, the agent in its environment, its own key and no other" {
	ability probe 'jq -c --argjson agent "$PANIC_AGENT" "{payload: ., name: env.PANIC_AGENT_NAME, resp: env.PANIC_RESPONSIBILITY, task: env.PANIC_TASK, trigger: env.PANIC_TRIGGER, attempt: env.PANIC_ATTEMPT, mine: (env.MY_KEY == \"sekrit\"), theirs: env.THEIR_KEY, openai: env.OPENAI_API_KEY, agent_key_field: \$agent.llm_config.api_key_env_var, db: env.PANIC_DB}"'
	agent-ctl add probe -a probe -r '{"trigger":"stdin","name":"in","task":"check"}' --key-env MY_KEY --status active > /dev/null
	agent-ctl add other -a echo -r every:1h --key-env THEIR_KEY --status active > /dev/null
	MY_KEY=sekrit THEIR_KEY=not-for-you OPENAI_API_KEY=sk-nope \
		run agent-run probe --exit-on-eof <<< '{"responsibility":"in","n":1}'
	assert_success
	assert_equal "$(echo "$output" | jq -c .result)" \
		"{\"payload\":{\"responsibility\":\"in\",\"n\":1},\"name\":\"probe\",\"resp\":\"in\",\"task\":\"check\",\"trigger\":\"stdin\",\"attempt\":\"1\",\"mine\":true,\"theirs\":null,\"openai\":null,\"agent_key_field\":\"MY_KEY\",\"db\":\"$PANIC_DB\"}"
	# the key is in no row, event or record
	run grep -rl sekrit "$T/state" "$T/bus"
	assert_failure
}

@test "abilities in order: each one's result is the next one's payload" {
	ability double 'jq -c "{n: (.n * 2)}"'
	ability inc 'jq -c "{n: (.n + 1)}"'
	agent-ctl add calc -a double -a inc -a echo -r '{"trigger":"stdin","abilities":["inc","double","double"]}' --status active > /dev/null
	run agent-run calc --exit-on-eof <<< '{"n":3}'
	assert_equal "$(echo "$output" | jq -c .result)" '{"n":16}'
}

@test "refused: no such agent (3), not active (4, unless --force), already run elsewhere (4)" {
	run --separate-stderr agent-run ghost
	assert_failure 3
	assert_equal "$stderr" "agent-run: no agent 'ghost' (see agent-ctl list)"
	agent-ctl add bot -a echo -r stdin > /dev/null
	run --separate-stderr agent-run bot < /dev/null
	assert_failure 4
	assert_equal "$stderr" "agent-run: agent 'bot' is inactive (agent-ctl activate bot, or --force)"
	run agent-run bot --force --exit-on-eof <<< '{"x":1}'
	assert_success
	assert_equal "$(echo "$output" | jq -r .state)" completed
	agent-ctl activate bot
	mkfifo hold
	agent-run bot < hold > /dev/null 2>&1 &
	exec 7> hold
	wait_for state bot running
	run --separate-stderr agent-run bot < /dev/null
	assert_failure 4
	[[ $stderr == "agent-run: agent 'bot' is run by another runner (held by process "*")" ]]
	exec 7>&-
	run agent-run
	assert_failure 2
	run agent-run bot --all
	assert_failure 2
}

@test "failures: retried by the policy, then last_error, an agent_events row and an event on agent:NAME; success clears it" {
	ability flaky 'n=$(cat "$0.n" 2>/dev/null || echo 0); echo $((n + 1)) > "$0.n"; [ "$n" -ge 2 ] && echo "{\"ok\":$n}" && exit 0; echo "not yet ($n)" >&2; exit 3'
	agent-ctl add f -a flaky -r stdin --retry fixed:2:10 --status active > /dev/null
	sub_bg evs -n 3 'agent:f'
	pid=$!
	run --separate-stderr agent-run f --exit-on-eof <<< '{}'
	assert_equal "$(echo "$output" | jq -c '[.state, .result, .attempts]')" '["completed",{"ok":2},3]'
	rm "$XDG_CONFIG_HOME/panic/abilities/flaky.n"
	agent-ctl set f --retry fixed:1:10 > /dev/null
	run --separate-stderr agent-run f --exit-on-eof <<< '{}'
	assert_equal "$(echo "$output" | jq -c '[.state, .error, .attempts]')" '["failed",{"kind":"exit","message":"exit status 3: not yet (1)"},2]'
	assert_equal "$(sql "select last_error from agents where name = 'f'")" "stdin: flaky: exit status 3: not yet (1)"
	wait "$pid"
	assert_equal "$(jq -r .data.event evs | paste -sd' ')" "started completed stopped"
	run --separate-stderr agent-run f --exit-on-eof <<< '{}'
	assert_equal "$(echo "$output" | jq -r .state)" completed
	assert_equal "$(sql "select last_error is null from agents where name = 'f'")" 1
	assert_equal "$(sql "select count(*) from agent_events where agent = 'f' and event = 'failed'")" 1
	# exponential backoff: 20 ms, 40 ms, then 50 ms (the ceiling)
	ability never 'exit 1'
	agent-ctl add g -a never -r stdin --retry exponential_backoff:3:20:50 --status active > /dev/null
	start=$(date +%s%N)
	run --separate-stderr agent-run g --exit-on-eof <<< '{}'
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	assert_equal "$(echo "$output" | jq -c '[.state, .attempts]')" '["failed",4]'
	[ "$took" -ge 110 ]
}

@test "an ability that hangs, floods, prints garbage or nothing fails; the runner goes on" {
	ability hang 'sleep 3127'
	ability flood 'head -c 3000000 /dev/zero | tr "\\0" x'
	ability garbage 'echo "this is not JSON"'
	ability silent 'exit 0'
	ability two 'echo "{}"; echo "{}"'
	ability orphan '(sleep 3128 &); echo "{\"ok\":true}"'
	agent-ctl add a -a hang -a flood -a garbage -a silent -a two -a orphan \
		-r '{"trigger":"stdin","name":"hang","abilities":["hang"]}' \
		-r '{"trigger":"stdin","name":"flood","abilities":["flood"]}' \
		-r '{"trigger":"stdin","name":"garbage","abilities":["garbage"]}' \
		-r '{"trigger":"stdin","name":"silent","abilities":["silent"]}' \
		-r '{"trigger":"stdin","name":"two","abilities":["two"]}' \
		-r '{"trigger":"stdin","name":"orphan","abilities":["orphan"]}' \
		--retry fixed:0:0 --status active > /dev/null
	printf '{"responsibility":"%s"}\n' hang flood garbage silent two orphan > in
	start=$(date +%s)
	# a timeout the flood cannot reach first, even under the sanitizers on a
	# loaded machine, with the six jobs started at once
	run --separate-stderr agent-run a --exit-on-eof --timeout 3s --max-output 100000 < in
	assert_equal "$(echo "$output" | jq -c '[.responsibility, .state, .error.kind, .error.message]' | paste -sd'\n')" \
'["hang","failed","timeout","still running after 3000 ms (killed)"]
["flood","failed","flood","printed more than 100000 bytes (killed)"]
["garbage","failed","bad_output","not JSON: Invalid literal at line 1, column 5"]
["silent","failed","bad_output","printed nothing (an ability prints one JSON value, such as {})"]
["two","failed","bad_output","not JSON: Unexpected extra JSON values"]
["orphan","completed",null,null]'
	[ $(( $(date +%s) - start )) -lt 20 ]
	# nothing it started lives on
	run pgrep -f 'sleep 312[78]'
	assert_failure
}

@test "the allow-list is checked again when an ability runs, and when the agent starts" {
	ability tool 'echo "{}"'
	agent-ctl add a -a tool -r stdin --retry fixed:3:0 --status active > /dev/null
	mkfifo feed
	agent-run a --exit-on-eof < feed > out 2> err &
	exec 7> feed
	wait_for state a running
	rm "$XDG_CONFIG_HOME/panic/abilities/tool"
	ln -s /bin/true "$XDG_CONFIG_HOME/panic/abilities/tool"
	echo '{}' >&7
	exec 7>&-
	wait
	assert_equal "$(jq -c '[.state, .error.kind, .attempts]' out)" '["failed","refused",1]'
	assert_equal "$(jq -r .error.message out)" \
		"ability 'tool' in $XDG_CONFIG_HOME/panic/abilities: refused: a symlink (put the program itself, or a script that runs it, there)"
	# at start: the agent cannot run; it goes to error, saying why
	run --separate-stderr agent-run a < /dev/null
	assert_failure 3
	assert_equal "$(sql "select status, last_error from agents where name = 'a'")" \
		"error|abilities[0]: ability 'tool' in $XDG_CONFIG_HOME/panic/abilities: refused: a symlink (put the program itself, or a script that runs it, there)"
	# a name edited into the row by hand is refused the same way
	sql "update agents set status = 'active', abilities = '[\"../../bin/sh\"]' where name = 'a'"
	run --separate-stderr agent-run a < /dev/null
	assert_failure 3
	assert_equal "$(sql "select status, last_error from agents where name = 'a'")" \
		"error|abilities[0]: '../../bin/sh' is not an ability name (letters, digits, . _ -; no '/', not starting with '.' or '-')"
}

@test "bad records on stdin: reported with their line, skipped, exit 1; the good ones run" {
	agent-ctl add bot -a echo -r '{"trigger":"stdin","name":"a"}' -r '{"trigger":"stdin","name":"b"}' --status active > /dev/null
	{
		echo '{"responsibility":"a","n":1}'
		echo '{"responsibility":'
		echo '{"n":2}'
		echo '{"responsibility":"zzz"}'
		printf '{"responsibility":"a","bad":"\0"}\n'
		head -c 5000000 /dev/zero | tr '\0' a; echo
		printf '{"responsibility":"a","bad":"\xff"}\n'
		echo '{"responsibility":"b","n":3}'
	} > in
	run --separate-stderr agent-run bot --exit-on-eof < in
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '[.responsibility, .n]' | paste -sd' ')" '["a",1] ["b",3]'
	assert_equal "$(echo "$stderr" | cut -d: -f2-3 | tr -d ' ' | paste -sd' ')" "stdin:2 stdin:3 stdin:4 stdin:5 stdin:6 stdin:7"
	[[ $stderr == *'agent-run: stdin:3: no "responsibility" (which one: a, b)'* ]]
}

@test "manager: starts active agents, follows agent-ctl and rows changed by hand in sqlite3" {
	agent-ctl add a -a echo -r 'event:go:a' --status active > /dev/null
	agent-ctl add b -a echo -r 'event:go:b' > /dev/null
	agent-run --all --poll 100ms > out 2> err &
	wait_for state a running
	state b stopped
	agent-ctl activate b
	wait_for state b running
	panic-bus pub go:a '{"n":1}'
	panic-bus pub go:b '{"n":2}'
	wait_for count out 2
	# a change by hand: the new responsibility is followed within the poll
	sql "update agents set responsibilities = '[\"event:go:c\"]' where name = 'a'"
	wait_for bash -c "[ \$(sqlite3 '$PANIC_DB' \"select count(*) from agent_events where agent = 'a' and event = 'started'\") = 2 ]"
	panic-bus pub go:a '{"n":3}'
	panic-bus pub go:c '{"n":4}'
	wait_for count out 3
	# an invalid row by hand: that agent goes to error, the other goes on
	sql "update agents set llm_config = '{oops' where name = 'a'"
	wait_for state a error
	assert_equal "$(sql "select status, last_error from agents where name = 'a'")" \
		"error|llm_config: not JSON: Invalid numeric literal at EOF at line 1, column 5"
	panic-bus pub go:b '{"n":5}'
	wait_for count out 4
	agent-ctl deactivate b
	wait_for state b stopped
	agent-ctl activate b
	wait_for state b running
	agent-ctl remove b
	wait_for bash -c "[ -z \"\$(agent-ctl status b 2>/dev/null)\" ]"
	kill %1
	wait
	assert_equal "$(jq -c .payload.n out | paste -sd' ')" "1 2 4 5"
	assert_equal "$(events b)" "started completed completed stopped started stopped"
	grep -q "agent a: llm_config: not JSON" err
}

@test "a crashing agent is restarted with backoff, then disabled_flapping; the others go on" {
	ability boom 'kill -SEGV $$'
	agent-ctl add bad -a boom -r every:1s --retry fixed:0:0 --status active > /dev/null
	agent-ctl add good -a echo -r every:1s --status active > /dev/null
	sub_bg evs -n 3 'agent:bad' --timeout 20
	pid=$!
	agent-run --all --restart-delay 50ms --flap-count 2 --flap-window 30s > out 2> err &
	wait "$pid"
	wait_for state bad flapping
	assert_equal "$(sql "select status from agents where name = 'bad'")" disabled_flapping
	assert_equal "$(sql "select last_error from agents where name = 'bad'")" \
		"crashed 3 times in 30 s, more than 2: disabled (flapping); last: every:1s: boom: killed by signal 11 (Segmentation fault)"
	assert_equal "$(events bad)" "started failed crashed restarted failed crashed restarted failed flapping stopped"
	assert_equal "$(sql "select json_extract(error, '$.kind') from agent_events where agent = 'bad' and event = 'failed'" | sort -u)" crash
	jq -e 'select(.data.event == "crashed")' evs > /dev/null
	# the other agent goes on, in the same process
	n=$(grep -c '"agent":"good"' out)
	wait_for bash -c "[ \$(grep -c '\"agent\":\"good\"' out) -gt $n ]"
	state good running
	kill %2
	wait
	grep -q "agent bad: crashed: every:1s: boom: killed by signal 11 (Segmentation fault) (restart in 50 ms)" err
	grep -q "agent bad: crashed: .* (restart in 100 ms)" err
}

@test "event: the event's data is the payload; patterns; an agent's own events never trigger it" {
	agent-ctl add docs -a echo -r 'event:process_new_document:*' -r 'event:agent:*' --status active > /dev/null
	agent-run docs > out &
	wait_for state docs running
	panic-bus pub process_new_document:pdf '{"file":"a.pdf"}'
	panic-bus pub process_new_document:txt 'plain text'
	panic-bus pub other '{"file":"no"}'
	big=$(head -c 9000 /dev/zero | tr '\0' b)
	panic-bus pub process_new_document:big "{\"blob\":\"$big\"}"
	wait_for count out 3
	sleep 0.3
	kill %1
	wait
	assert_equal "$(jq -c '.payload | if type == "object" and has("blob") then (.blob | length) else . end' out | paste -sd' ')" \
		'{"file":"a.pdf"} {"input":"plain text"} 9000'
}

@test "the manager hears the events of many agents (their patterns over 8 KiB)" {
	for i in $(seq 1 300); do
		printf '{"name":"agent-%d","status":"active","abilities":["echo"],"responsibilities":["event:a-rather-long-topic-name-for-agent-number-%d"]}\n' "$i" "$i"
	done | agent-ctl import
	agent-run --all > out &
	wait_for bash -c "[ \$(agent-ctl status | grep -c '\"state\":\"running\"') = 300 ]"
	[ "$(wc -c < "$(ls "$PANIC_BUS"/sub.*.info | head -1)")" -gt 8192 ]
	panic-bus pub a-rather-long-topic-name-for-agent-number-299 '{"n":299}'
	panic-bus pub a-rather-long-topic-name-for-agent-number-1 '{"n":1}'
	wait_for count out 2
	kill %1
	wait
	assert_equal "$(jq -c '[.agent, .payload.n]' out | sort | paste -sd' ')" '["agent-1",1] ["agent-299",299]'
}

@test "watch: a file closed after writing or moved in triggers once; a burst once each; the glob filters" {
	mkdir in
	agent-ctl add w -a echo -r "watch:$T/in:*.txt" --status active > /dev/null
	agent-run w > out &
	wait_for state w running
	echo one > in/one.txt
	echo skip > in/skip.md
	echo two > tmp.txt && mv tmp.txt in/two.txt
	echo hidden > in/.three.txt
	for i in $(seq 1 20); do echo $i > in/burst-$i.txt; done
	wait_for count out 22
	sleep 0.3
	kill %1
	wait
	assert_equal "$(wc -l < out)" 22
	assert_equal "$(jq -r .payload.name out | sort | head -2 | paste -sd' ')" "burst-1.txt burst-10.txt"
	assert_equal "$(jq -c 'select(.payload.name == "one.txt" or .payload.name == "two.txt") | .payload' out | sort | paste -sd' ')" \
		"{\"path\":\"$T/in/one.txt\",\"name\":\"one.txt\",\"dir\":\"$T/in\",\"event\":\"closed\"} {\"path\":\"$T/in/two.txt\",\"name\":\"two.txt\",\"dir\":\"$T/in\",\"event\":\"moved_in\"}"
}

@test "watch: a directory that vanishes and comes back is watched again; one that is missing is waited for" {
	agent-ctl add w -a echo -r "watch:$T/in" --status active > /dev/null
	agent-run w > out &
	wait_for state w running
	mkdir in
	sleep 0.4
	echo a > in/a
	wait_for count out 1
	rm -r in
	mkdir in
	echo b > in/b
	wait_for count out 2
	mv in gone
	mkdir in
	sleep 0.4
	echo c > in/c
	wait_for count out 3
	kill %1
	wait
	assert_equal "$(jq -r .payload.name out | paste -sd' ')" "a b c"
}

@test "watch: a directory it may not read is a clear error, restarts, then flapping" {
	mkdir -p locked
	chmod 000 locked
	agent-ctl add w -a echo -r "watch:$T/locked" --status active > /dev/null
	if [ "$(id -u)" = 0 ]; then
		chown -R nobody "$T"
		as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	else
		as=()
	fi
	run --separate-stderr "${as[@]}" env PATH="$PATH" agent-run w --restart-delay 20ms --flap-count 2 < /dev/null
	assert_failure 1
	assert_equal "$(echo "$stderr" | head -1)" "agent-run: agent w: crashed: watch:$T/locked: Permission denied (restart in 20 ms)"
	assert_equal "$(sql "select status from agents where name = 'w'")" disabled_flapping
}

@test "the llm ability: the prompt template filled from the payload; the call linked to the agent" {
	agent-ctl add writer --model dummy-t2t --system 'Be brief.' -a llm \
		-p 'summary=Summarise {{doc.title}} ({{n}}): {{.}}' -r '{"trigger":"stdin","task":"summary"}' \
		--retry fixed:2:0 --status active > /dev/null
	run agent-run writer --exit-on-eof <<< '{"doc":{"title":"Cats"},"n":2}'
	prompt='Summarise Cats (2): {"doc":{"title":"Cats"},"n":2}'
	assert_equal "$(echo "$output" | jq -c '[.state, .result.output, .result.model]')" \
		"[\"completed\",\"DUMMY_TEXT: $(echo "$prompt" | rev | sed 's/"/\\"/g')\",\"dummy-t2t\"]"
	assert_equal "$(sql "select agent, model, state, prompt from calls")" "writer|dummy-t2t|completed|$prompt"
	assert_equal "$(echo "$output" | jq -r .result.call_id)" "$(sql 'select id from calls')"
	# a field the payload lacks: failed at once, not retried
	run --separate-stderr agent-run writer --exit-on-eof <<< '{"n":2}'
	assert_equal "$(echo "$output" | jq -c '[.state, .attempts, .error.kind, .error.message]')" \
		'["failed",1,"template","prompts.summary: the template wants {{doc.title}}, which the payload does not have"]'
}

@test "systemd: READY=1, WATCHDOG=1 and STOPPING=1; SIGTERM cancels the job in flight and ends cleanly" {
	ability slow 'sleep 2011; echo "{}"'
	agent-ctl add s -a slow -r stdin --status active > /dev/null
	notify-listen "$T/notify.sock" > notes &
	wait_for test -S "$T/notify.sock"
	mkfifo feed
	NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=200000 agent-run s < feed > out 2> err &
	pid=$!
	exec 7> feed
	echo '{"n":1}' >&7
	wait_for grep -q WATCHDOG=1 notes
	wait_for state s running
	wait_for pgrep -f 'sleep 2011'
	kill -TERM "$pid"
	wait "$pid"
	exec 7>&-
	assert_equal "$(head -1 notes)" READY=1
	wait_for grep -q STOPPING=1 notes
	assert_equal "$(grep -c STOPPING=1 notes)" 1 # said once, at the signal
	assert_equal "$(jq -c '[.state, .error.kind]' out)" '["cancelled","cancelled"]'
	run pgrep -f 'sleep 2011'
	assert_failure
	assert_equal "$(events s)" "started cancelled stopped"
	state s stopped
}

@test "SIGINT: the job cancelled, then it dies by SIGINT, as the other programs do" {
	ability slow2 'sleep 2012; echo "{}"'
	agent-ctl add s2 -a slow2 -r stdin --status active > /dev/null
	mkfifo feed
	agent-run s2 < feed > out 2> err &
	pid=$!
	exec 7> feed
	echo '{"n":1}' >&7
	wait_for pgrep -f 'sleep 2012'
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	exec 7>&-
	assert_equal "$rc" 130
	assert_equal "$(jq -c '[.state, .error.kind]' out)" '["cancelled","cancelled"]'
	run pgrep -f 'sleep 2012'
	assert_failure
	assert_equal "$(cat err)" ""
}

@test "a closed reader ends it quietly" {
	agent-ctl add e -a echo -r every:1s -r stdin --status active > /dev/null
	run bash -c 'yes "{}" | head -3000 | agent-run e 2> /dev/null | head -1'
	assert_success
	assert_equal "$(echo "$output" | jq -r .state)" completed
	wait_for state e stopped
}

@test "the installed abilities are found from the build tree, without --abilities" {
	printf 'hi\n' > doc.txt
	agent-ctl add info -a file-info -r stdin --status active > /dev/null
	run agent-run info --exit-on-eof <<< "{\"path\":\"$T/doc.txt\"}"
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.state, .result.size]')" '["completed",3]'
}

@test "the installed abilities, found beside the program: file-info, and publish chaining two agents" {
	mkdir -p root/bin root/share/panic
	cp "$PANIC_BIN/agent-run" root/bin/
	cp -r "$TOP/share/panic/abilities" root/share/panic/
	printf 'hello\n' > doc.txt
	agent-ctl add info -a file-info --abilities "$T/root/share/panic/abilities" \
		-r '{"trigger":"stdin","abilities":["file-info"]}' --status active > /dev/null
	run "$T/root/bin/agent-run" info --exit-on-eof <<< "{\"path\":\"$T/doc.txt\"}"
	assert_success
	assert_equal "$(echo "$output" | jq -c '.result | [.path, .size, .sha256]')" \
		"[\"$T/doc.txt\",6,\"$(sha256sum doc.txt | cut -d' ' -f1)\"]"
	run "$T/root/bin/agent-run" info --exit-on-eof <<< '{"path":"/etc"}'
	assert_equal "$(echo "$output" | jq -c '[.state, .error.message]')" '["failed","exit status 1: file-info: /etc: not a regular file"]'
	# publish: one agent's result is another agent's event
	agent-ctl add relay -a publish --abilities "$T/root/share/panic/abilities" -r stdin --status active > /dev/null
	agent-ctl add listener -a echo -r 'event:relay:out' --status active > /dev/null
	agent-run listener > heard &
	wait_for bash -c "agent-ctl status listener | grep -q running"
	run "$T/root/bin/agent-run" relay --exit-on-eof <<< '{"topic":"relay:out","data":{"said":"hi"}}'
	assert_equal "$(echo "$output" | jq -c .result)" '{"topic":"relay:out","published":true}'
	wait_for count heard 1
	kill %1
	wait
	assert_equal "$(jq -c .payload heard)" '{"said":"hi"}'
}

@test "agent_events older than --keep-events are deleted" {
	agent-ctl add bot -a echo -r stdin --status active > /dev/null
	sql "insert into agent_events (id, agent_id, agent, at, event) values ('old', 'x', 'bot', '2001-01-01T00:00:00.000Z', 'completed')"
	run agent-run bot --exit-on-eof --keep-events 1d <<< '{}'
	assert_success
	assert_equal "$(sql "select count(*) from agent_events where id = 'old'")" 0
	assert_equal "$(sql "select count(*) from agent_events where agent = 'bot'")" 3
	sql "insert into agent_events (id, agent_id, agent, at, event) values ('old', 'x', 'bot', '2001-01-01T00:00:00.000Z', 'completed')"
	run agent-run bot --exit-on-eof --keep-events 0 <<< '{}'
	assert_equal "$(sql "select count(*) from agent_events where id = 'old'")" 1
}

@test "an ability starts clean: its own process group, no signal blocked or SIGPIPE ignored, none of the runner's files open" {
	ability clean 'cat > /dev/null
theirs=$(for f in /proc/$$/fd/*; do readlink "$f"; done | grep -c -e "$PANIC_DB" -e "$PANIC_BUS" -e "socket:")
set -- $(cat /proc/$$/stat)
blk=$(awk "/^SigBlk/ {print \$2}" /proc/$$/status)
ign=$(awk "/^SigIgn/ {print \$2}" /proc/$$/status)
printf "{\"theirs\":%s,\"own_group\":%s,\"blocked\":\"%s\",\"sigpipe_ignored\":%s}\n" "$theirs" "$([ "$5" = $$ ] && echo true || echo false)" "$blk" "$(( (0x$ign >> 12) & 1 ))"'
	agent-ctl add clean -a clean -r stdin -r 'event:clean:go' --status active > /dev/null
	run --separate-stderr agent-run clean --exit-on-eof <<< '{"n":1}'
	assert_success
	assert_equal "$(echo "$output" | jq -c .result)" '{"theirs":0,"own_group":true,"blocked":"0000000000000000","sigpipe_ignored":0}'
}
