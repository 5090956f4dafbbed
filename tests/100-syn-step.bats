#!/usr/bin/env bats
# syn-step: stages of a workflow, records in and records out, with the
# state file as their journal: merges, replays, commands, jq, failures,
# retries, suspensions, stops, -j, events, bad input.

bats_require_minimum_version 1.5.0
load helper
load flow

@test "a record without _run starts a run; each stage merges its step's result; other fields pass untouched" {
	run --separate-stderr sh -c 'printf "%s\n" "{\"id\":7,\"big\":12345678901234567890,\"request\":\"cats\"}" |
		syn-step a --jq "{plan: (\"Plan for \" + .request)}" |
		syn-step b -- jq -c "{words: (.plan | split(\" \") | length), plan: (.plan + \"!\")}" |
		syn-step c'
	assert_success
	assert_equal "$stderr" ""
	run_id=$(echo "$output" | jq -r ._run)
	assert_equal "$(echo "$output" | jq -c 'del(._run)')" \
		'{"id":7,"big":12345678901234567000,"request":"cats","plan":"Plan for cats!","words":3}'
	assert_equal "$(sql 'select count(*) from workflow_runs')" 1
	assert_equal "$(run_status "$run_id")" completed
	assert_equal "$(journal)" 'a|completed|1|{"plan":"Plan for cats"}
b|completed|1|{"words":3,"plan":"Plan for cats!"}
c|completed|1|{}'
	assert_equal "$(sql "select input from workflow_runs")" '{"id":7,"big":12345678901234567890,"request":"cats"}'
}

@test "a workflow's status is its last stage's: 1 when a run that reached it had failed or was stopped, as syn-run says" {
	wf failing <<'W'
syn-step boom -- sh -c 'jq -e ".n > 0" > /dev/null || exit 1; echo "{}"' |
syn-step after --jq '{x: 1}'
W
	run --separate-stderr ./failing <<< '{"n":1}'
	assert_success
	run --separate-stderr ./failing <<< '{"n":0}'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r ._status)" failed
	# the same run again: replayed, still failed, still 1
	run --separate-stderr ./failing <<< '{"n":0}'
	assert_failure 1
	run --separate-stderr syn-run ./failing <<< '{"n":0}'
	assert_failure 1
	# and a run that completes makes none
	run --separate-stderr ./failing <<< '{"n":2}'
	assert_success
}

@test "a step that only adds fields appends them to the record as it came; one that changes a field writes the record anew" {
	run --separate-stderr sh -c 'printf "%s\n" "{\"b\":1.50,\"big\":12345678901234567890,\"a\":\"x\"}" "{}" |
		syn-step a --jq "{c: 2}" | syn-step b --jq "{}" | sed "s/\"_run\":\"[^\"]*\"/R/"'
	assert_success
	assert_equal "$output" '{"b":1.50,"big":12345678901234567890,"a":"x","c":2,R}
{"c":2,R}'
	run --separate-stderr sh -c 'echo "{\"b\":1.50,\"a\":\"x\"}" | syn-step a --jq "{a: \"y\", d: [1]}" | sed "s/,\"_run.*/}/"'
	assert_success
	assert_equal "$output" '{"b":1.5,"a":"y","d":[1]}'
	assert_equal "$(journal)" 'a|completed|1|{"c":2}
b|completed|1|{}
a|completed|1|{"c":2}
b|completed|1|{}
a|completed|1|{"a":"y","d":[1]}'
}

@test "a text line is the context {\"input\": LINE}; the _run a stage writes is the run's id" {
	run --separate-stderr sh -c 'echo "a cat at sea" | syn-step a --jq "{n: (.input | length)}"'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'del(._run)')" '{"input":"a cat at sea","n":12}'
	assert_equal "$(echo "$output" | jq -r ._run)" "$(sql 'select id from workflow_runs')"
}

@test "the same input again finds the same runs: journalled steps replay, no command runs twice" {
	wf flow <<'W'
syn-step a -- sh -c 'echo "$SYN_RUN a" >> "$LOG"; jq -c "{a: (.n * 2)}"' |
syn-step b -- sh -c 'echo "$SYN_RUN b" >> "$LOG"; jq -c "{b: (.a + 1)}"'
W
	export LOG=$T/log
	printf '{"n":1}\n{"n":2}\n{"n":1}\n' > in
	run --separate-stderr ./flow < in
	assert_success
	first=$output
	run --separate-stderr ./flow < in
	assert_success
	assert_equal "$output" "$first"
	assert_equal "$(echo "$output" | jq -c 'del(._run)' | tr '\n' ' ')" \
		'{"n":1,"a":2,"b":3} {"n":2,"a":4,"b":5} {"n":1,"a":2,"b":3} '
	# identical records are distinct runs
	assert_equal "$(echo "$output" | jq -r ._run | sort -u | wc -l)" 3
	assert_equal "$(wc -l < log)" 6
	assert_equal "$(cut -d' ' -f1 log | sort | uniq -c | awk '{print $1}' | sort -u)" 2
	assert_equal "$(sql 'select count(*) from workflow_runs')" 3
	# --fresh starts new runs, and _key names the run whatever the record
	run --separate-stderr sh -c 'echo "{\"n\":1,\"_key\":\"k1\"}" | syn-step a --jq "{m: .n}"; echo "{\"n\":5,\"_key\":\"k1\"}" | syn-step a --jq "{m: .n}"'
	assert_success
	assert_equal "$(echo "$output" | jq -r ._run | sort -u | wc -l)" 1
	assert_equal "$(echo "$output" | jq -c 'del(._run)' | tr '\n' ' ')" '{"n":1,"m":1} {"n":5,"m":1} '
	# the same _key twice in one stream: the second is refused (its run is in flight)
	run --separate-stderr sh -c 'printf "{\"_key\":\"k2\"}\n{\"_key\":\"k2\"}\n" | syn-step a --jq "{m: 1}"'
	assert_failure 1
	assert_equal "$(echo "$output" | wc -l)" 1
	err_has 'syn-step: stdin:2: a run of this "_key" is already in the pipeline'
	run --separate-stderr sh -c 'echo "{\"n\":1}" | syn-step a --fresh --jq "{m: .n}"; echo "{\"n\":1}" | syn-step a --fresh --jq "{m: .n}"'
	assert_equal "$(echo "$output" | jq -r ._run | sort -u | wc -l)" 2
}

@test "a command gets the context on stdin (no _run) and SYN_RUN, SYN_STEP, SYN_ATTEMPT, SYN_WORKFLOW" {
	wf flow <<'W'
syn-step look -- sh -c 'cat > "$DIR/stdin"; env | grep ^SYN_ | sort > "$DIR/env"; echo "{}"'
W
	export DIR=$T
	run --separate-stderr ./flow <<< '{"q":1}'
	assert_success
	run_id=$(echo "$output" | jq -r ._run)
	assert_equal "$(cat stdin)" '{"q":1}'
	assert_equal "$(cat env)" "SYN_ATTEMPT=1
SYN_RUN=$run_id
SYN_STEP=look
SYN_STEPS=look
SYN_WORKFLOW=$T/flow"
	assert_equal "$(sql 'select workflow, workflow_file from workflow_runs')" "flow|$T/flow"
}

@test "a failing command is retried with backoff, then the run fails: its record says so, and only the failure is journalled" {
	cat > flaky <<'S'
#!/bin/sh
n=$(cat "$0.count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$0.count"
[ "$n" -ge "$PASS_AT" ] && { echo '{"ok":true}'; exit 0; }
echo "attempt $n broke" >&2; exit 3
S
	chmod +x flaky
	export PASS_AT=3
	run --separate-stderr sh -c 'echo "{\"n\":1}" | syn-step s --retry 2 --backoff 0.01 -- ./flaky | syn-step t --jq "{t: 1}"'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'del(._run)')" '{"n":1,"ok":true,"t":1}'
	assert_equal "$(journal)" 's|completed|3|{"ok":true}
t|completed|1|{"t":1}'
	assert_equal "$(sql "select event || ':' || json_extract(data, '\$.attempt') from workflow_events order by rowid")" \
		"step_error:1
retrying:2
step_error:2
retrying:3"
	rm -f flaky.count workflow
	export PASS_AT=9
	run --separate-stderr bash -c 'set -o pipefail; echo "{\"n\":2}" | syn-step s --retry 1 --backoff 0.01 -- ./flaky | syn-step t --jq "{t: 1}"'
	assert_failure 1
	id=$(echo "$output" | jq -r ._run)
	assert_equal "$(echo "$output" | jq -c 'del(._run)')" \
		'{"n":2,"_status":"failed","_error":{"kind":"exit","message":"./flaky: exited with status 3: attempt 2 broke","step":"s"}}'
	assert_equal "$stderr" "syn-step: run $id failed at step s: ./flaky: exited with status 3: attempt 2 broke"
	assert_equal "$(run_status "$id")" failed
	assert_equal "$(sql "select step, state, attempts, result from workflow_steps where run_id = '$id'")" 's|failed|2|'
	assert_equal "$(sql "select json_extract(error, '\$.message') from workflow_runs where id = '$id'")" \
		"./flaky: exited with status 3: attempt 2 broke"
}

@test "what a command prints must be one JSON object: else the step fails, nothing but the failure journalled" {
	local out
	for out in '[1,2]' 'not json' '{} {}' '' '"text"' '{"_run":"x"}' '{"a":1' ; do
		printf '%s' "$out" > out.txt
		run --separate-stderr sh -c 'echo "{}" | syn-step s -- cat out.txt'
		assert_failure 1
		assert_equal "$(echo "$output" | jq -r ._status)" failed
		assert_equal "$(echo "$output" | jq -r ._error.kind)" bad_response
	done
	assert_equal "$(sql "select distinct state from workflow_steps")" failed
	assert_equal "$(sql "select count(*) from workflow_steps where result is not null")" 0
	printf '[1,2]' > out.txt
	run --separate-stderr sh -c 'echo "{}" | syn-step s -- cat out.txt'
	assert_equal "$(echo "$output" | jq -r ._error.message)" "cat: the output is not one JSON object but array"
	printf '{} {}' > out.txt
	run --separate-stderr sh -c 'echo "{}" | syn-step s -- cat out.txt'
	assert_equal "$(echo "$output" | jq -r ._error.message)" "cat: the output is more than one JSON value"
}

@test "--timeout kills a command that never answers, children and all; --fallback stands in for a step that failed" {
	nap=$(unique_sleep)
	run --separate-stderr sh -c "echo '{}' | syn-step slow --timeout 0.3 -- sh -c 'sleep $nap & sleep $nap; echo {}'"
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r ._error.kind)" timeout
	run pgrep -x -f "sleep $nap"
	assert_failure
	run --separate-stderr sh -c 'echo "{\"a\":1}" | syn-step s --fallback "{\"plan\":\"canned\"}" -- false | syn-step t --jq "{t: .plan}"'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'del(._run)')" '{"a":1,"plan":"canned","t":"canned"}'
	assert_equal "$(sql "select state, result, json_extract(error, '\$.kind') from workflow_steps where step = 's'")" \
		'completed|{"plan":"canned"}|exit'
	err_has "failed (false: exited with status 1): its fallback is merged"
}

@test "--jq steps: a program error fails the run at once (no retry); one that does not compile too" {
	run --separate-stderr sh -c 'echo "{\"n\":\"x\"}" | syn-step s --retry 3 --jq "{m: (.n + 1)}"'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r ._error.message)" 'jq: string ("x") and number (1) cannot be added'
	assert_equal "$(sql 'select attempts from workflow_steps')" 1
	run --separate-stderr sh -c 'echo "{}" | syn-step s --jq "{m: (.n +"'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r ._error.kind)" jq
	assert_equal "$(echo "$output" | jq -r ._error.message)" "the jq program does not compile: jq: error: syntax error, unexpected \$end (Unix shell quoting issues?) at <top-level>, line 1: {m: (.n +"
	run --separate-stderr sh -c 'echo "{}" | syn-step s --jq ".a | foo"'
	assert_equal "$(echo "$output" | jq -r ._error.message)" "the jq program does not compile: jq: error: foo/0 is not defined at <top-level>, line 1: .a | foo"
	run --separate-stderr sh -c 'echo "{}" | syn-step s --jq "empty"'
	assert_equal "$(echo "$output" | jq -r ._error.message)" "jq: the program gave no result"
	run --separate-stderr sh -c 'echo "{}" | syn-step s --jq "{a:1}, {b:2}"'
	assert_equal "$(echo "$output" | jq -r ._error.message)" "jq: the program gave more than one result"
}

@test "a suspension holds the run in the state file; the other runs keep flowing" {
	run --separate-stderr sh -c 'printf "{\"n\":1}\n{\"n\":2,\"ask\":true}\n{\"n\":3}\n" |
		syn-step ask --jq "if .ask then {_suspend: {message: \"OK?\", metadata: {n: .n}, schema: {ok: \"boolean\"}}} else {} end" |
		syn-step done --jq "{done: true}"'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'del(._run)' | tr '\n' ' ')" '{"n":1,"done":true} {"n":3,"done":true} '
	assert_equal "$(sql "select status, waiting_step from workflow_runs order by id")" "completed|
waiting_for_human|ask
completed|"
	assert_equal "$(sql "select state, waiting from workflow_steps where state = 'suspended'")" \
		'suspended|{"message":"OK?","metadata":{"n":2},"schema":{"ok":"boolean"}}'
	# fed again, it is still held: nothing runs, nothing comes out for it
	run --separate-stderr sh -c 'printf "{\"n\":2,\"ask\":true}\n" |
		syn-step ask --jq "if .ask then {_suspend: {message: \"OK?\"}} else {} end" | syn-step done --jq "{done: true}"'
	assert_success
	assert_output ""
	# --suspend with a message from the context and metadata templates
	run --separate-stderr sh -c 'echo "{\"plan\":\"go\"}" | syn-step approve --suspend "Approve {{plan}}?" \
		--metadata "{\"plan\": \"{{plan}}\", \"n\": 1}" --schema "{\"approved\": \"boolean\"}"'
	assert_success
	assert_output ""
	assert_equal "$(sql "select waiting from workflow_steps where step = 'approve'")" \
		'{"message":"Approve go?","metadata":{"plan":"go","n":1},"schema":{"approved":"boolean"}}'
}

@test "_stop ends the run as stopped: later stages pass its record on untouched; the last one exits 1" {
	run --separate-stderr sh -c 'printf "{\"n\":0}\n{\"n\":1}\n" |
		syn-step check --jq "if .n == 0 then {_stop: \"nothing to do\", why: \"zero\"} else {} end" |
		syn-step work --jq "{worked: true}"'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c 'del(._run)' | tr '\n' ' ')" \
		'{"n":0,"why":"zero","_status":"stopped"} {"n":1,"worked":true} '
	assert_equal "$(sql "select status, json_extract(error, '\$.message') from workflow_runs order by id")" "stopped|nothing to do
completed|"
	assert_equal "$(sql "select count(*) from workflow_steps where step = 'work'")" 1
}

@test "-j keeps several runs in flight and writes them in input order" {
	# a barrier: each command waits until all four have started, which
	# only four runs in flight at once can pass
	cat > meet <<'S'
#!/bin/sh
n=$(jq -r .n)
touch "$DIR/here.$n"
i=0
while [ "$(ls "$DIR" | grep -c '^here\.')" -lt 4 ]; do
	i=$((i + 1)); [ $i -gt 400 ] && { echo "alone" >&2; exit 1; }; sleep 0.02
done
sleep "0.$((4 - n))"
echo "{\"m\": $n}"
S
	chmod +x meet
	export DIR=$T/meet.d
	mkdir "$DIR"
	run --separate-stderr sh -c 'printf "{\"n\":%d}\n" 1 2 3 4 | syn-step m -j 4 -- ./meet'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'del(._run)' | tr '\n' ' ')" '{"n":1,"m":1} {"n":2,"m":2} {"n":3,"m":3} {"n":4,"m":4} '
}

@test "events on synaptic:run:RUN: started, step_completed, retrying, step_error, failed, completed, waiting_for_human" {
	listen sh -c 'printf "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n" |
		syn-step a --retry 1 --backoff 0.01 -- sh -c "jq -e \".n != 2\" > /dev/null && echo {} || { echo no >&2; exit 1; }" |
		syn-step b --jq "if .n == 3 then {_suspend: {message: \"?\"}} else {} end"'
	r1=$(sed -n 1p out | jq -r ._run)
	r2=$(sed -n 2p out | jq -r ._run)
	assert_equal "$(jq -r "select(.run_id == \"$r1\") | .event + \":\" + .step" events | tr '\n' ' ')" \
		"started:a step_completed:a step_completed:b completed:b "
	assert_equal "$(jq -r "select(.run_id == \"$r2\") | .event + \":\" + .step" events | tr '\n' ' ')" \
		"started:a step_error:a retrying:a step_error:a failed:a "
	assert_equal "$(jq -c 'select(.event == "waiting_for_human") | [.step, .message, .metadata, .schema]' events)" '["b","?",{},null]'
	assert_equal "$(jq -c 'select(.event == "retrying") | [.attempt, .delay_ms, .error.kind]' events)" '[2,10,"exit"]'
	assert_equal "$(jq -r 'select(.event == "failed") | .error.message' events)" "sh: exited with status 1: no"
	# every event has its run, step and time
	assert_equal "$(jq -r 'select((.run_id | length) != 36 or (.at | test("^20..-..-..T..:..:..\\....Z$") | not) or .step == null)' events)" ""
}

@test "bad input: broken JSON, a NUL, invalid UTF-8, a huge line, a bad or unknown _run: one line each, the rest goes on" {
	printf '{"n":1}\n{"n": \n\x00\n{"s":"\xff"}\n' > in
	{ head -c 5000 /dev/zero | tr '\0' 'x' | sed 's/^/{"big":"/; s/$/"}/'; echo; } >> in
	printf '{"_run": 5}\n{"_run":"01234567-89ab-7def-8123-456789abcdef"}\n{"_run":"nope"}\n[1]\n{"n":2}\n' >> in
	run --separate-stderr syn-step s --max-line 1000 --jq '{ok: true}' < in
	assert_failure 1
	# a line that is not an object is text: a run of {"input": LINE}
	assert_equal "$(echo "$output" | jq -c 'del(._run)' | tr '\n' ' ')" '{"n":1,"ok":true} {"input":"[1]","ok":true} {"n":2,"ok":true} '
	assert_equal "$(echo "$stderr" | wc -l)" 7
	err_has 'syn-step: stdin:2: '
	err_has "syn-step: stdin:7: unknown run '01234567-89ab-7def-8123-456789abcdef'"
	err_has "syn-step: stdin:3: NUL at byte"
	err_has "syn-step: stdin:4: invalid UTF-8"
	err_has "syn-step: stdin:5: line too long"
	err_has 'syn-step: stdin:6: "_run" must be a run id (a string)'
	err_has "syn-step: stdin:8: unknown run 'nope'"
	assert_equal "$(sql 'select count(*) from workflow_runs')" 3
	# --json: only objects; -R: every line is text
	run --separate-stderr syn-step s --json --max-line 1000 --jq '{ok: true}' < in
	assert_failure 1
	err_has "syn-step: stdin:9: "
	assert_equal "$(echo "$output" | jq -c 'del(._run)' | tr '\n' ' ')" '{"n":1,"ok":true} {"n":2,"ok":true} '
	run --separate-stderr sh -c 'printf "{\"n\":1}\nplain words\n" | syn-step t -R --jq "{ok: true}"'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'del(._run)' | tr '\n' ' ')" '{"input":"{\"n\":1}","ok":true} {"input":"plain words","ok":true} '
}

@test "a step whose result would make a record too large fails, and nothing of it is journalled" {
	run --separate-stderr sh -c 'echo "{}" | syn-step grow --max-line 200 --jq "{big: (\"x\" * 300)}"'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r ._error.kind)" too_large
	assert_equal "$(sql 'select state, result from workflow_steps')" "failed|"
}

@test "usage errors: no name, two actions, options of another action, bad schemas and templates" {
	run --separate-stderr syn-step
	assert_failure 2
	run --separate-stderr syn-step --jq .
	assert_failure 2
	err_has "syn-step: a step needs a NAME, before its options"
	run --separate-stderr syn-step a/b
	assert_failure 2
	err_has "syn-step: a step name is letters, digits, '_', '-' and '.', got 'a/b'"
	run --separate-stderr syn-step a --jq . -- cat
	assert_failure 2
	err_has "syn-step: a step has one action: a program after --, --jq or --model"
	run --separate-stderr syn-step a --prompt hi
	assert_failure 2
	run --separate-stderr syn-step a --suspend ok --schema '{"when": "date"}'
	assert_failure 2
	err_has "syn-step: --schema: field 'when': unknown type 'date' (string, boolean, integer, float, map or list; with ? if optional; an array of one type for a list of it)"
	run --separate-stderr syn-step a --schema '{"ok": "boolean"}'
	assert_failure 2
	run --separate-stderr syn-step a --suspend 'ok {{ x'
	assert_failure 2
	run --separate-stderr syn-step a --fallback '[1]'
	assert_failure 2
	run --separate-stderr syn-step a -m no-such-model --prompt hi
	assert_failure 3
	assert_equal "$stderr" "syn-step: unknown model 'no-such-model' (see panic-invoke --list)"
	run --separate-stderr syn-step a --score
	assert_failure 2
}

@test "a step name used twice in one pipeline is refused" {
	run --separate-stderr bash -c 'set -o pipefail; { echo "{}"; sleep 0.5; } | syn-step twice --jq "{a: 1}" | syn-step other | syn-step twice --jq "{b: 2}"'
	assert_failure 3
	err_has "syn-step: step name 'twice' is used twice in this workflow"
}

@test "a reader that goes away ends the stage: the command in flight is killed, done work is kept" {
	nap=$(unique_sleep)
	cat > slow <<S
#!/bin/sh
echo "\$SYN_RUN" >> "\$DIR/started"
sleep $nap
S
	chmod +x slow
	export DIR=$T
	printf '{"n":1}\n{"n":2}\n' > in
	# the reader takes one record, then goes away while run 2's command runs
	run --separate-stderr sh -c 'syn-step fast --jq "{f: 1}" < in | syn-step slow -- ./slow | head -c 0'
	assert_equal "$stderr" ""
	run pgrep -x -f "sleep $nap"
	assert_failure
	assert_equal "$(sql "select count(*) from workflow_steps where step = 'fast'")" 2
	assert_equal "$(sql "select count(*) from workflow_steps where step = 'slow'")" 0
}

@test "SIGTERM mid-work: children killed, done steps committed, quiet exit" {
	nap=$(unique_sleep)
	cat > slow <<S
#!/bin/sh
touch "\$DIR/slow.started"
exec sleep $nap
S
	chmod +x slow
	export DIR=$T
	mkfifo feed
	syn-step slow -- ./slow < feed > out 2> err &
	pid=$!
	exec 7> feed
	echo '{"n":1}' >&7
	wait_for test -e slow.started
	kill -TERM $pid
	wait $pid || true
	exec 7>&-
	run pgrep -x -f "sleep $nap"
	assert_failure
	assert_equal "$(cat err)" ""
	assert_equal "$(sql "select count(*) from workflow_steps")" 0
	assert_equal "$(sql "select status from workflow_runs")" running
}

@test "describe mode: SYN_DESCRIBE passes the descriptions on and adds this step's, running nothing" {
	run --separate-stderr sh -c 'SYN_DESCRIBE=1; export SYN_DESCRIBE; : | syn-step a --retry 2 -- touch ran | syn-step b --jq "{x: 1}" --suspend "OK?" --schema "{\"ok\":\"boolean\"}"'
	assert_success
	assert_equal "$output" '{"step":"a","kind":"command","command":["touch","ran"],"retry":2,"backoff":1}
{"step":"b","kind":"jq","jq":"{x: 1}","suspend":{"message":"OK?","schema":{"ok":"boolean"}}}'
	assert [ ! -e ran ]
	assert [ ! -e "$PANIC_DB" ]
}

@test "the stages of a pipeline may all create a new state file at once" {
	local i
	for i in 1 2 3; do
		rm -rf state
		run --separate-stderr bash -c 'set -o pipefail; echo "{}" | syn-step a --jq "{a:1}" | syn-step b --jq "{b:1}" |
			syn-step c --jq "{c:1}" | syn-step d --jq "{d:1}" | syn-step e --jq "{e:1}" | syn-step f'
		assert_success
		assert_equal "$stderr" ""
		assert_equal "$(echo "$output" | jq -c 'del(._run)')" '{"a":1,"b":1,"c":1,"d":1,"e":1}'
	done
}
