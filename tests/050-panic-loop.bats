#!/usr/bin/env bats
# panic-loop: runs, chaining, lockout, supersede, retries, restarts, status,
# systemd notify, bad input.

bats_require_minimum_version 1.5.0
load helper

# records of TYPE in FILE, as compact [fields...]
recs() { jq -c "select(.type == \"$2\") | $3" "$1"; }

@test "a 3-model text/image/audio cycle chains each output into the next input" {
	panic-net create art dummy-t2i dummy-i2a dummy-a2t -l 0 > /dev/null
	run --separate-stderr timeout 20 panic-loop art --pace 0 --max 4 <<<'a cat at sea'
	assert_success
	echo "$output" > out
	h0=$(md5 'a cat at sea')
	i1="https://dummy-images.test/$h0.png"
	a2="https://dummy-audio.test/from_image_$(md5 "${i1}_audio").ogg"
	t3="DUMMY_TRANSCRIPT: Audio content from $(md5 "$a2" | cut -c1-8)"
	i4="https://dummy-images.test/$(md5 "$t3").png"
	assert_equal "$(recs out invocation 'select(.state == "completed") | [.seq, .model, .input, .output]')" \
"[0,\"dummy-t2i\",\"a cat at sea\",\"$i1\"]
[1,\"dummy-i2a\",\"$i1\",\"$a2\"]
[2,\"dummy-a2t\",\"$a2\",\"$t3\"]
[3,\"dummy-t2i\",\"$t3\",\"$i4\"]"
	# every state change, in order
	assert_equal "$(recs out invocation '[.seq, .state]' | head -4 | paste -sd' ')" '[0,"ready"] [0,"invoking"] [0,"completed"] [1,"ready"]'
	assert_equal "$(recs out run '[.event, .state, .reason]' | paste -sd' ')" '["started","running",null] ["stopped","stopped","max"]'
	# and stored: contiguous seqs, one row each
	assert_equal "$(sql 'select group_concat(seq) from (select seq from invocations order by seq)')" "0,1,2,3"
	assert_equal "$(sql 'select state, reason from runs')" "stopped|max"
}

@test "invocations are published on invocation:NETWORK" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	run --separate-stderr panic-bus listen 'invocation:art' -- sh -c 'echo hi | panic-loop art --pace 0 --max 2 > /dev/null'
	assert_success
	assert_equal "$(echo "$output" | jq -c '.data | [.seq, .state]' | paste -sd' ')" \
		'[0,"ready"] [0,"invoking"] [0,"completed"] [1,"ready"] [1,"invoking"] [1,"completed"]'
}

@test "a prompt within the lockout is refused with the seconds left" {
	panic-net create art dummy-t2t -l 30 > /dev/null
	run --separate-stderr timeout 20 panic-loop art --pace 0 --max 3 < <(printf '%s\n' first second)
	assert_failure 4 # refused for now
	echo "$output" > out
	assert_equal "$(recs out lockout '[.prompt, .seconds_left]')" '["second",30]'
	assert_equal "$(sql 'select count(*), min(prompt) from runs')" "1|first"
}

@test "a prompt after the lockout supersedes the run; the slow call's late result is never stored" {
	panic-net create slow dummy-t2t -l 0 > /dev/null
	mkfifo in
	PANIC_DUMMY_DELAY_MS=700 panic-loop slow --pace 0 < in > out 2> err &
	pid=$!
	exec {w}>in
	echo first >&"$w"
	wait_for grep -q '"state":"invoking"' out
	echo second >&"$w"
	wait_for grep -q '"input":"second","output":null,"state":"invoking"' out
	sleep 1.2 # past the first call's delay: its result would have come
	kill -TERM "$pid"
	wait "$pid"
	exec {w}>&-
	assert_equal "$(sql "select r.prompt, r.state, i.seq, i.state, json_extract(i.error, '$.kind') from runs r join invocations i on i.run_id = r.id where r.prompt = 'first'")" \
		"first|superseded|0|failed|superseded"
	# nothing completed in the first run, ever
	assert_equal "$(sql "select count(*) from invocations i join runs r on r.id = i.run_id where r.prompt = 'first' and i.state = 'completed'")" 0
	assert_equal "$(recs out invocation 'select(.input == "first") | .state' | paste -sd' ')" '"ready" "invoking" "failed"'
}

@test "no step of a stopped run fires later" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	mkfifo in
	panic-loop art --pace 0.5 < in > out 2> err &
	pid=$!
	exec {w}>in
	echo go >&"$w"
	wait_for grep -q '"seq":1,"model":"dummy-t2t","input":"DUMMY_TEXT: og","output":null,"state":"ready"' out
	panic-bus pub run:art '{"command":"stop"}'
	wait_for grep -q '"event":"stopped"' out
	sleep 1 # two paces: a stale timer would have invoked seq 1 by now
	kill -TERM "$pid"
	wait "$pid"
	exec {w}>&-
	assert_equal "$(sql 'select max(seq) from invocations')" 1
	assert_equal "$(sql "select count(*) from invocations where state in ('invoking', 'completed') and seq = 1")" 0
	assert_equal "$(sql 'select state, reason from runs')" "stopped|a stop request"
}

@test "a failing invocation is retried with backoff, then the run fails clearly; the runner serves on" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	# the first 3 calls of this process fail: 1 try + 2 retries, then success
	PANIC_DUMMY_FAIL_FIRST=3 run --separate-stderr timeout 10 panic-loop art --pace 0 --retries 2 --backoff 0 --exit-on-eof <<<p
	assert_failure 1
	echo "$output" > out
	assert_equal "$(recs out invocation '[.state, .metadata.attempt]' | paste -sd' ')" \
		'["ready",0] ["invoking",1] ["failed",1] ["invoking",2] ["failed",2] ["invoking",3] ["failed",3]'
	assert_equal "$(recs out run '[.state, .reason]' | tail -1)" '["failed","invocation 0 failed 3 times: dummy: injected failure (call 3 of the first 3)"]'
	# with one retry more it would have worked; and a new prompt gets a new run
	PANIC_DUMMY_FAIL_FIRST=1 run --separate-stderr timeout 10 panic-loop art --pace 0 --retries 1 --backoff 0 --max 1 <<<again
	assert_success
	assert_equal "$(echo "$output" | recs /dev/stdin invocation '.state' | tail -1)" '"completed"'
}

@test "--exit-on-eof ends cleanly at the end of stdin" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	run --separate-stderr timeout 10 panic-loop art --pace 0 --exit-on-eof <<<p
	assert_success
	assert_equal "$(sql 'select state, reason from runs')" "stopped|end of input"
	assert_equal "$(sql "select count(*) from invocations where state = 'invoking'")" 0
}

@test "killed with SIGKILL and restarted, the run carries on: no invocation lost or doubled" {
	panic-net create art dummy-t2i dummy-i2t -l 0 > /dev/null
	for round in 1 2 3 4 5; do
		if [ "$round" = 1 ]; then echo start > in; else : > in; fi
		PANIC_DUMMY_DELAY_MS=20 panic-loop art --pace 0 < in > "out$round" 2>> err &
		pid=$!
		sleep "0.$((RANDOM % 4 + 2))"
		kill -9 "$pid"
		wait "$pid" || true
	done
	PANIC_DUMMY_DELAY_MS=20 run --separate-stderr timeout 20 panic-loop art --pace 0 --max 3 < /dev/null
	assert_success
	assert_equal "$(sql 'select count(*) from runs')" 1
	n=$(sql 'select count(*) from invocations')
	[ "$n" -gt 10 ]
	# seqs 0..n-1, each once; all but the last completed; each input the output before
	assert_equal "$(sql 'select count(distinct seq), min(seq), max(seq) from invocations')" "$n|0|$((n - 1))"
	assert_equal "$(sql "select count(*) from invocations where state != 'completed' and seq < $((n - 1))")" 0
	assert_equal "$(sql 'select count(*) from invocations a join invocations b on b.seq = a.seq + 1 where b.input != a.output')" 0
	assert_equal "$(sql "select count(*) from invocations where model != case seq % 2 when 0 then 'dummy-t2i' else 'dummy-i2t' end")" 0
	assert_equal "$(cat out2 out3 | jq -r 'select(.type == "run") | .event' | sort -u)" resumed
}

@test "--status tells idle, invoking or waiting, lockout and when the next is due" {
	panic-net create art dummy-t2t -l 60 > /dev/null
	run --separate-stderr panic-loop --status art
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.network, .state]')" '["art","not running"]'
	mkfifo in
	panic-loop art --pace 30 < in > out 2> err &
	pid=$!
	exec {w}>in
	wait_for bash -c "panic-loop --status art | grep -q idle"
	echo go >&"$w"
	wait_for grep -q '"seq":1' out
	run --separate-stderr panic-loop --status art
	assert_equal "$(echo "$output" | jq -c '[.state, .seq, .in_lockout, .pid == '"$pid"']')" '["waiting",1,true,true]'
	left=$(echo "$output" | jq .lockout_seconds_left)
	next=$(echo "$output" | jq .next_in_ms)
	[ "$left" -ge 55 ] && [ "$left" -le 60 ]
	[ "$next" -ge 25000 ] && [ "$next" -le 30000 ]
	# times are RFC 3339, as in every record; the run's start is the run's
	assert_equal "$(echo "$output" | jq -c '[keys[] | select(test("_ms$|_at$"))]')" '["next_at","next_in_ms","run_started_at","updated_at"]'
	assert_equal "$(echo "$output" | jq -r .run_started_at)" "$(sql 'select started_at from runs')"
	kill -TERM "$pid"
	wait "$pid"
	exec {w}>&-
	run --separate-stderr panic-loop --status art
	assert_equal "$(echo "$output" | jq -r .state)" "not running"
}

@test "one runner per network" {
	panic-net create art dummy-t2t > /dev/null
	mkfifo in
	panic-loop art < in > out 2> err &
	pid=$!
	exec {w}>in
	wait_for bash -c "panic-loop --status art | grep -q idle"
	run --separate-stderr panic-loop art < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-loop: network 'art' already has a runner: held by process $pid"
	# the same file by a symlink, a hard link, another directory: one runner
	ln -s "$PANIC_DB" sym.db
	mkdir other && ln "$PANIC_DB" other/hard.db
	run --separate-stderr panic-loop --db sym.db art < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-loop: network 'art' already has a runner: held by process $pid"
	run --separate-stderr panic-loop --db other/hard.db art < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-loop: network 'art' already has a runner: held by another process"
	assert_equal "$(panic-loop --db sym.db --status art | jq -r .state)" idle
	assert_equal "$(panic-loop --db other/hard.db --status art | jq -r .state)" running
	kill -TERM "$pid"
	wait "$pid"
	exec {w}>&-
	# the lock is gone with its runner, and so is its note file
	assert_equal "$(panic-loop --db other/hard.db --status art | jq -r .state)" "not running"
	assert_equal "$(ls "$(dirname "$PANIC_DB")" | grep -c lock)" 0
}

@test "systemd: READY=1, watchdog pings, STATUS and STOPPING=1 on a notify socket" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	notify-listen "$T/notify.sock" > notes &
	listener=$!
	wait_for test -S "$T/notify.sock"
	NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=200000 run --separate-stderr \
		timeout 10 panic-loop art --pace 0.3 --max 3 <<<go
	assert_success
	sleep 0.2
	kill "$listener"
	assert_equal "$(head -1 notes)" "READY=1"
	grep -qx 'WATCHDOG=1' notes
	grep -qx 'STATUS=invoking' notes
	grep -qx 'STATUS=waiting' notes
	assert_equal "$(tail -1 notes)" "STOPPING=1"
}

@test "SIGTERM stops the runner, not the run: the next runner carries it on, no invocation lost or twice" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	mkfifo in
	panic-loop art --pace 10 < in > out 2> err &
	pid=$!
	exec {w}>in
	echo go >&"$w"
	wait_for grep -q '"seq":1' out
	kill -TERM "$pid"
	wait "$pid"
	exec {w}>&-
	assert_equal "$(sql 'select state, reason is null from runs')" "running|1"
	assert_equal "$(tail -1 out | jq -c '[.type, .event, .reason, .state]')" '["run","paused","signal","running"]'
	assert_equal "$(panic-loop --status art | jq -r .state)" "not running"
	# started again (as systemctl restart does), it carries the run on
	panic-loop art --pace 0 --max 2 < /dev/null > out2
	assert_equal "$(head -1 out2 | jq -c '[.type, .event]')" '["run","resumed"]'
	assert_equal "$(jq -r 'select(.state == "completed") | .seq' out2 | paste -sd' ')" "1 2"
	assert_equal "$(sql 'select count(distinct run_id), count(*), count(distinct seq) from invocations where state = '"'completed'"'')" "1|3|3"
	assert_equal "$(sql 'select state, reason from runs')" "stopped|max"
	assert_equal "$err" ""
}

@test "durations take units as well as seconds: --pace 1.5, 1500ms, 1m30s" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	for pace in 0.05 50ms 0m0.05s; do
		panic-loop art --pace "$pace" --max 2 <<<"go $pace" > out
		assert_equal "$(jq -r 'select(.state == "completed") | .seq' out | paste -sd' ')" "0 1"
	done
	run --separate-stderr panic-loop --status --pace 1m30s art
	assert_success
}

@test "--stop ends a run its runner left, in the state file; with a runner, the runner ends it" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	mkfifo in
	panic-loop art --pace 10 < in > out 2> err &
	pid=$!
	exec {w}>in
	echo go >&"$w"
	wait_for grep -q '"seq":1' out
	kill -TERM "$pid"
	wait "$pid"
	run --separate-stderr panic-loop --stop art
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.type, .seq, .event, .state, .reason // .error.kind]' | paste -sd" ")" \
		'["invocation",1,null,"failed","stopped"] ["run",null,"stopped","stopped","a stop request"]'
	assert_equal "$(sql 'select state, reason from runs')" "stopped|a stop request"
	assert_equal "$(sql "select count(*) from invocations where state in ('ready', 'invoking')")" 0
	# nothing to stop: quiet success
	run --separate-stderr panic-loop --stop art
	assert_success
	assert_equal "$output$stderr" ""
	# a runner that runs gets the request on the bus and stays for the next prompt
	exec {w}>&-
	mkfifo in2
	panic-loop art --pace 10 < in2 > out3 2> err3 &
	pid=$!
	exec {w}>in2
	echo again >&"$w"
	wait_for grep -q '"seq":1' out3
	panic-loop --stop art
	wait_for grep -q '"event":"stopped"' out3
	assert_equal "$(sql 'select state, reason from runs order by started_at desc limit 1')" "stopped|a stop request"
	kill -0 "$pid"
	kill -TERM "$pid"
	wait "$pid"
	exec {w}>&-
	run --separate-stderr panic-loop --stop --status art
	assert_failure 2
	run --separate-stderr panic-loop --stop nope
	assert_failure 3
}

@test "bad input: unknown or invalid network; garbage prompts on stdin and the bus" {
	run --separate-stderr panic-loop nope < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-loop: no network 'nope' (see panic-net list)"
	panic-net create art dummy-t2t -l 0 > /dev/null
	sql "update networks set models = '[\"dummy-t2i\"]' where name = 'art'"
	run --separate-stderr panic-loop art < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-loop: network 'art' is invalid: model 1 (dummy-t2i) gives image but the cycle goes back to model 1 (dummy-t2i), which takes text"
	sql "update networks set models = '[\"dummy-t2t\"]' where name = 'art'"
	# garbage on stdin: reported, skipped; the good prompt still runs
	{ echo '{"input":'; printf 'a\0b\n'; echo '{"prompt":"x"}'; echo '{"input":[1]}'; echo good; } > in
	run --separate-stderr timeout 20 panic-loop art --pace 0 --max 2 < in
	assert_failure 1
	assert_equal "$stderr" "panic-loop: stdin:1: invalid JSON: Unfinished JSON term at EOF at line 1, column 9
panic-loop: stdin:2: NUL at byte 2
panic-loop: stdin:3: no \"input\" (the prompt) as a string
panic-loop: stdin:4: no \"input\" (the prompt) as a string"
	assert_equal "$(sql 'select prompt from runs')" good
	# garbage on the bus: reported, the runner still serves
	mkfifo in2
	panic-loop art --pace 0 < in2 > out 2> err &
	pid=$!
	exec {w}>in2
	wait_for bash -c "panic-loop --status art | grep -q idle"
	panic-bus pub prompt:art '{"text":"no input field"}'
	panic-bus pub prompt:art '{"input":"from the bus"}'
	wait_for grep -q '"prompt":"from the bus"' out
	kill -TERM "$pid"
	wait "$pid"
	exec {w}>&-
	assert_equal "$(cat err)" 'panic-loop: bus: prompt:art event without "input" (the prompt) as a string'
}

@test "usage errors exit 2" {
	run --separate-stderr panic-loop
	assert_failure 2
	run --separate-stderr panic-loop a b
	assert_failure 2
	run --separate-stderr panic-loop --pace -1 art
	assert_failure 2
	run --separate-stderr panic-loop --max 0 art
	assert_failure 2
	run --separate-stderr panic-loop --pace 5ms5 art
	assert_failure 2
	assert_equal "$(echo "$stderr" | head -1)" "panic-loop: --pace: expected seconds (or 500ms, 30s, 5m, 1h) from 0 to 31536000 s, got '5ms5'"
	run --separate-stderr panic-loop --pace 1.5x art
	assert_failure 2
	run --separate-stderr panic-loop --help
	assert_success
}

@test "a closed reader stops the runner, quietly; the run stays for the next runner" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	run --separate-stderr bash -c 'echo go | panic-loop art --pace 0 | head -n 3 > head.out; echo "status ${PIPESTATUS[1]}" >&2'
	assert_success
	assert_equal "$stderr" "status 0"
	assert_equal "$(wc -l < head.out)" 3
	assert_equal "$(sql 'select state from runs')" "running"
	# it did not run on for long after the reader went
	[ "$(sql 'select count(*) from invocations')" -lt 1000 ]
}

@test "a running runner follows edits of its network: lockout, models, deletion" {
	# two text models, so that any new list chains from any invocation
	echo '[{"id":"other-t2t","platform":"dummy","input":"text","output":"text"}]' > models.json
	export PANIC_MODELS=$PWD/models.json
	panic-net create art dummy-t2t -l 600 > /dev/null
	mkfifo in
	panic-loop art --pace 0.2 < in > out 2> err &
	pid=$!
	exec {w}>in
	echo first >&"$w"
	wait_for grep -q '"input":"first".*"state":"completed"' out
	# in its lockout: refused; a lockout of 0 takes effect at the next prompt
	echo second >&"$w"
	wait_for grep -q '"type":"lockout"' out
	panic-net set art -l 0 > /dev/null
	echo third >&"$w"
	wait_for grep -q '"input":"third","output":null,"state":"invoking"' out
	# a new model list takes effect at the next invocation
	panic-net set art other-t2t > /dev/null
	wait_for grep -q '"model":"other-t2t"' out
	run_id=$(sql "select id from runs where prompt = 'third'")
	assert_equal "$(sql "select model from invocations where run_id = '$run_id' and model != 'dummy-t2t' limit 1")" other-t2t
	# deleted with its runs: the runner says why and stops cleanly
	panic-net delete art --force > /dev/null
	status=0
	wait "$pid" || status=$?
	exec {w}>&-
	assert_equal "$status" 0
	assert_equal "$(cat err)" "panic-loop: network 'art' was deleted: the runner stops"
	assert_equal "$(sql 'select count(*) from runs')" 0
}

@test "a model list that no longer chains from the run's last output ends the run clearly" {
	panic-net create art dummy-t2i dummy-i2t -l 0 > /dev/null
	mkfifo in
	panic-loop art --pace 1 < in > out 2> err &
	pid=$!
	exec {w}>in
	echo go >&"$w"
	wait_for grep -q '"seq":1,"model":"dummy-i2t","input":"https:.*"state":"ready"' out
	# invocation 1's input is an image; the new network's model 2 takes text
	panic-net set art dummy-t2t > /dev/null
	wait_for grep -q '"type":"run".*"state":"failed"' out
	kill -TERM "$pid"
	wait "$pid" || true
	exec {w}>&-
	assert_equal "$(sql 'select reason from runs')" \
		"the network changed: model 1 (dummy-t2t) takes text, but invocation 1's input is image"
	assert_equal "$(sql "select state, json_extract(error, '$.kind') from invocations where seq = 1")" "failed|network_changed"
}

@test "prompts refused for lockout make the exit status 4; unknown run commands are reported" {
	panic-net create art dummy-t2t > /dev/null
	run --separate-stderr bash -c "printf 'a\nb\n' | panic-loop art --pace 0 --max 3 --exit-on-eof"
	assert_failure 4
	assert_equal "$(echo "$output" | jq -r 'select(.type == "lockout") | .prompt')" b
	# a command the runner does not know, and one with no command
	mkfifo in
	panic-loop art --pace 0 < in > out 2> err &
	pid=$!
	exec {w}>in
	wait_for bash -c "panic-loop --status art | grep -q idle"
	panic-bus pub run:art '{"command":"pause"}' '{"stop":true}' > /dev/null
	wait_for bash -c '[ "$(wc -l < err)" = 2 ]'
	kill -TERM "$pid"
	wait "$pid"
	exec {w}>&-
	assert_equal "$(cat err)" "panic-loop: bus: run:art: unknown command 'pause' (the command is \"stop\")
panic-loop: bus: run:art: no \"command\" as a string (the command is \"stop\")"
}

@test "durations past an int of milliseconds: a pace of 40 days, retries and backoff at their limits" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	mkfifo in
	panic-loop art --pace 3456000 --retries 1000 --backoff 86400 < in > out 2> err &
	pid=$!
	exec {w}>in
	echo go >&"$w"
	wait_for grep -q '"seq":1.*"state":"ready"' out
	# waiting 40 days for invocation 1, not spinning and not overflowing
	next=$(panic-loop --status art | jq .next_in_ms)
	[ "$next" -gt 3400000000 ] || fail "next in $next ms"
	kill -TERM "$pid"
	wait "$pid"
	exec {w}>&-
	assert_equal "$(cat err)" ""
	for bad in inf nan -1 1e300; do
		run --separate-stderr panic-loop art --pace "$bad" < /dev/null
		assert_failure 2
	done
}
