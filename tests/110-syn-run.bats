#!/usr/bin/env bats
# syn-run: start (--at), resume (--print, --step), inspect, history, stop,
# ls, describe, test, export, and running a workflow file.

bats_require_minimum_version 1.5.0
load helper
load flow

demo() { cp "$TOP/share/panic/workflows/demo" demo; }

@test "start prints the run's id, drives it through the workflow, and it completes" {
	wf flow <<'W'
syn-step a --jq '{x: (.n + 1)}' |
syn-step b -- sh -c 'jq -c "{y: (.x * 10)}"'
W
	run --separate-stderr syn-run start ./flow '{"n": 1}'
	assert_success
	assert_equal "$stderr" ""
	assert_output --regexp '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
	id=$output
	run --separate-stderr syn-run inspect --json "$id"
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.status, .current_step, .context, .waiting, .workflow, .steps]')" \
		'["completed","b",{"n":1,"x":2,"y":20},null,"flow",[{"step":"a","state":"completed","attempts":1},{"step":"b","state":"completed","attempts":1}]]'
	assert_equal "$(sql "select workflow_file from workflow_runs")" "$T/flow"
	# a context that is not an object, an unknown workflow
	run --separate-stderr syn-run start ./flow '[1]'
	assert_failure 2
	err_has "syn-run: start: expected a JSON object"
	run --separate-stderr syn-run start ./nope '{}'
	assert_failure 3
	err_has "syn-run: ./nope: No such file or directory"
	assert_equal "$(sql 'select count(*) from workflow_runs')" 1
}

@test "the demo: a drafted plan, a suspension for approval, bad answers refused, the resume, the announcement" {
	demo
	run --separate-stderr syn-run start ./demo '{"request": "Plan a kickoff"}'
	assert_success
	id=$output
	run --separate-stderr syn-run inspect --json "$id"
	assert_equal "$(echo "$output" | jq -c '[.status, .current_step, .waiting.message, .waiting.metadata.plan, .waiting.schema]')" \
		'["waiting_for_human","approve","Approve the plan for \"Plan a kickoff\"?","DUMMY_TEXT: ffokcik a nalP :rof nalp a tfarD",{"approved":"boolean","note":"string?"}]'
	# wrong types and missing fields are refused, naming the field, and nothing changes
	run --separate-stderr syn-run resume "$id" '{"approved": "yes"}'
	assert_failure 3
	assert_equal "$stderr" "syn-run: run $id, step approve: field 'approved': expected boolean, got string"
	run --separate-stderr syn-run resume "$id" '{"note": "hm"}'
	assert_failure 3
	assert_equal "$stderr" "syn-run: run $id, step approve: missing field 'approved'"
	run --separate-stderr syn-run resume "$id" '{"approved": true, "note": 5}'
	assert_failure 3
	run --separate-stderr syn-run resume "$id" 'approved'
	assert_failure 3
	assert_equal "$(run_status "$id")" waiting_for_human
	assert_equal "$(sql "select state, human_input from workflow_steps where step = 'approve'")" "suspended|"
	# the answer: the run goes on from where it waited
	run --separate-stderr syn-run resume "$id" '{"approved": true}'
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.announcement, .approved, .human_input, ._run]')" \
		"[\"Approved: DUMMY_TEXT: ffokcik a nalP :rof nalp a tfarD\",true,{\"approved\":true},\"$id\"]"
	assert_equal "$(run_status "$id")" completed
	# the same suspension twice: refused
	run --separate-stderr syn-run resume "$id" '{"approved": true}'
	assert_failure 4
	assert_equal "$stderr" "syn-run: run $id does not wait for a human: it is completed"
	# the model step's call is logged with the run and the step
	assert_equal "$(sql "select model, run_id = '$id', step from calls")" "dummy-t2t|1|draft"
	# the timeline
	run --separate-stderr syn-run history "$id"
	assert_success
	assert_equal "$(echo "$output" | jq -r '.event + ":" + (.step // "-")' | tr '\n' ' ')" \
		"started:- step_completed:request step_completed:draft waiting_for_human:approve resumed:approve step_completed:approve step_completed:announce step_completed:commit completed:- "
	assert_equal "$(echo "$output" | jq -r "select(.run_id != \"$id\")")" ""
}

@test "the demo's model fails: its canned plan stands in" {
	demo
	PANIC_DUMMY_FAIL=1 run --separate-stderr syn-run start ./demo '{}'
	assert_success
	id=$output
	err_has "step draft failed (dummy: injected failure (every call fails)): its fallback is merged"
	assert_equal "$(syn-run inspect --json "$id" | jq -c '[.status, .context.request, .context.plan]')" \
		'["waiting_for_human","Plan a team kickoff","1. Agree the goal. 2. Split the work. 3. Meet again on Friday."]'
	run --separate-stderr syn-run resume "$id" '{"approved": false, "note": "too vague"}'
	assert_success
	assert_equal "$(echo "$output" | jq -r .announcement)" "Not approved: too vague"
}

@test "start --at STEP: the steps before it are skipped, not run; an unknown step lists the steps" {
	wf flow <<'W'
syn-step one -- sh -c 'touch one.ran; echo "{\"one\":1}"' |
syn-step two -- sh -c 'touch two.ran; echo "{\"two\":2}"' |
syn-step three --jq '{three: (.two + 1)}'
W
	run --separate-stderr syn-run start --at two ./flow '{"given": true}'
	assert_success
	id=$output
	assert [ ! -e one.ran ]
	assert [ -e two.ran ]
	assert_equal "$(journal)" 'one|skipped|0|{}
two|completed|1|{"two":2}
three|completed|1|{"three":3}'
	assert_equal "$(syn-run inspect --json "$id" | jq -c '[.status, .at_step, .context]')" '["completed","two",{"given":true,"two":2,"three":3}]'
	run --separate-stderr syn-run start --at four ./flow '{}'
	assert_failure 3
	assert_equal "$stderr" "syn-run: --at: no step 'four' in $T/flow (its steps: one, two, three)"
	assert_equal "$(sql 'select count(*) from workflow_runs')" 1
}

@test "resume --print: a run of a pipeline typed on the command line goes back into that pipeline" {
	pipeline() { syn-step a --jq '{a: 1}' | syn-step ask --suspend 'OK?' --schema '{"ok": "boolean"}' | syn-step b --jq '{b: .human_input.ok}'; }
	run --separate-stderr pipeline <<< '{"n": 1}'
	assert_success
	assert_output ""
	id=$(sql 'select id from workflow_runs')
	assert_equal "$(run_status "$id")" waiting_for_human
	run --separate-stderr syn-run resume "$id" '{"ok": true}'
	assert_failure 3
	assert_equal "$stderr" "syn-run: run $id was started by a pipeline typed on the command line: resume it with --print and pipe that into the pipeline"
	assert_equal "$(run_status "$id")" waiting_for_human
	run --separate-stderr syn-run resume --step other "$id" '{"ok": true}'
	assert_failure 4
	assert_equal "$stderr" "syn-run: run $id waits at step ask, not other"
	run --separate-stderr syn-run resume --print "$id" '{"ok": true}'
	assert_success
	assert_equal "$output" "{\"n\":1,\"_run\":\"$id\"}"
	run --separate-stderr pipeline <<< "$output"
	assert_success
	assert_equal "$output" "{\"n\":1,\"a\":1,\"human_input\":{\"ok\":true},\"b\":true,\"_run\":\"$id\"}"
	assert_equal "$(run_status "$id")" completed
}

@test "a command suspends with its own schema; resumed, it runs again and sees human_input" {
	cat > ask <<'S'
#!/bin/sh
in=$(cat)
echo "$in" >> "$DIR/seen"
if echo "$in" | jq -e 'has("human_input")' > /dev/null; then
	echo "$in" | jq -c '{answer: (.human_input.n * 2)}'
else
	echo '{"_suspend": {"message": "How many?", "metadata": {"q": 1}, "schema": {"n": "integer", "tags": ["string"]}}}'
fi
S
	chmod +x ask
	export DIR=$T
	wf flow <<'W'
syn-step ask -- ./ask | syn-step after --jq '{after: .answer}'
W
	id=$(syn-run start ./flow '{"x": 1}')
	assert_equal "$(run_status "$id")" waiting_for_human
	run --separate-stderr syn-run resume "$id" '{"n": 2.5, "tags": []}'
	assert_failure 3
	assert_equal "$stderr" "syn-run: run $id, step ask: field 'n': expected integer, got float"
	run --separate-stderr syn-run resume "$id" '{"n": 2, "tags": ["a", 1]}'
	assert_failure 3
	assert_equal "$stderr" "syn-run: run $id, step ask: field 'tags[1]': expected string, got integer"
	run --separate-stderr syn-run resume "$id" '{"n": 21, "tags": []}'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'del(._run)')" '{"x":1,"human_input":{"n":21,"tags":[]},"answer":42,"after":42}'
	assert_equal "$(cat seen)" '{"x":1}
{"x":1,"human_input":{"n":21,"tags":[]}}'
}

@test "resuming a run that waits at step 8 of 10 runs no command before it again" {
	{
		for i in 1 2 3 4 5 6 7; do echo "syn-step s$i -- sh -c 'echo s$i >> ran; echo {\\\"s$i\\\":$i}' |"; done
		echo "syn-step s8 --suspend 'Go on?' |"
		echo "syn-step s9 -- sh -c 'echo s9 >> ran; echo {}' |"
		echo "syn-step s10"
	} | wf flow
	id=$(syn-run start ./flow '{}')
	assert_equal "$(cat ran | tr '\n' ' ')" "s1 s2 s3 s4 s5 s6 s7 "
	run --separate-stderr syn-run resume "$id" '{}'
	assert_success
	assert_equal "$(cat ran | tr '\n' ' ')" "s1 s2 s3 s4 s5 s6 s7 s9 "
	assert_equal "$(echo "$output" | jq -c 'del(._run)')" '{"s1":1,"s2":2,"s3":3,"s4":4,"s5":5,"s6":6,"s7":7,"human_input":{}}'
	assert_equal "$(run_status "$id")" completed
}

@test "resume takes a plain workflow on from the waiting step in syn-run itself (the stages before it never start); any other is driven whole, to the same end" {
	echo '[]' > models.json
	body() {
		echo "syn-step s1 --models ./models.json -- sh -c 'echo s1 >> ran; echo {\\\"a\\\":1}' |"
		echo "syn-step s2 --jq '{b: (.a + 1)}' |"
		echo "syn-step s3 --suspend 'Go on?' --schema '{\"ok\": \"boolean\"}' |"
		echo "syn-step s4 --jq '{c: (if .human_input.ok then .b * 10 else 0 end)}' |"
		echo "syn-step s5 -- sh -c 'echo \$SYN_STEP \$SYN_STEPS \$(basename \$SYN_WORKFLOW) >> ran; jq -c \"{d: (.c + 1)}\"' |"
		echo "syn-step s6"
	}
	body | wf plain
	{ echo ': the shell runs this, so the file is not one plain pipeline'; body; } | wf whole
	a=$(syn-run start ./plain '{"n": 1}')
	b=$(syn-run start ./whole '{"n": 1}')
	c=$(syn-run start ./plain '{"n": 2}')
	d=$(syn-run start ./whole '{"n": 2}')
	assert_equal "$(cat ran | tr '\n' ' ')" "s1 s1 s1 s1 "
	: > ran
	run --separate-stderr syn-run -v resume "$a" '{"ok": true}'
	assert_success
	err_has "syn-run: run $a: its last 4 steps run here, from step s3"
	out_a=$(echo "$output" | jq -c 'del(._run)')
	run --separate-stderr syn-run -v resume "$b" '{"ok": true}'
	assert_success
	err_has "is not a plain pipeline of syn-steps: a command that is not syn-step (:): the workflow is driven whole"
	assert_equal "$(echo "$output" | jq -c 'del(._run)')" "$out_a"
	assert_equal "$out_a" '{"n":1,"a":1,"b":2,"human_input":{"ok":true},"c":20,"d":21}'
	assert_equal "$(cat ran)" "s5 s1 s2 s3 s4 s5 s6 plain
s5 s1 s2 s3 s4 s5 s6 whole"
	journal_of() { sql "select step, state, attempts, result, coalesce(human_input, '') from workflow_steps where run_id = '$1' order by seq"; }
	assert_equal "$(journal_of "$a")" "$(journal_of "$b")"
	assert_equal "$(run_status "$a") $(run_status "$b")" "completed completed"
	# the proof that s1's stage does not start: it could not now
	rm models.json
	run --separate-stderr syn-run resume "$c" '{"ok": false}'
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.c, .d]')" '[0,1]'
	assert_equal "$(run_status "$c")" completed
	run --separate-stderr syn-run resume "$d" '{"ok": false}'
	assert_failure 1
	err_has "models.json"
	assert_equal "$(run_status "$d")" running
}

@test "stop: a waiting run is stopped; a stopped or unknown run is refused; a step in flight is abandoned" {
	demo
	id=$(syn-run start ./demo '{}')
	run --separate-stderr syn-run stop "$id"
	assert_success
	assert_equal "$(run_status "$id")" stopped
	run --separate-stderr syn-run stop "$id"
	assert_failure 4
	assert_equal "$stderr" "syn-run: run $id has already ended: it is stopped"
	run --separate-stderr syn-run resume "$id" '{"approved": true}'
	assert_failure 4
	run --separate-stderr syn-run stop 01a20000-0000-7000-8000-000000000000
	assert_failure 3
	assert_equal "$stderr" "syn-run: unknown run '01a20000-0000-7000-8000-000000000000'"
	# a run whose step is running: stopped from outside, its command is killed
	nap=$(unique_sleep)
	wf slow <<W
syn-step wait -- sh -c 'touch started; exec sleep $nap' | syn-step after --jq '{after: 1}'
W
	syn-run start ./slow '{}' > id 2> err &
	wait_for test -e started
	id=$(cat id)
	run --separate-stderr syn-run stop "$id"
	assert_success
	wait
	assert_equal "$(run_status "$id")" stopped
	run pgrep -x -f "sleep $nap"
	assert_failure
	assert_equal "$(sql "select count(*) from workflow_steps where run_id = '$id'")" 0
	grep -q "was stopped: step wait abandoned" err
	run --separate-stderr syn-run history "$id"
	assert_equal "$(echo "$output" | jq -r .event | tr '\n' ' ')" "started stopped "
}

@test "ls: runs, oldest first, by status and workflow, the last N" {
	demo
	wf other <<'W'
syn-step x --jq '{x: 1}'
W
	a=$(syn-run start ./demo '{}')
	b=$(syn-run start ./other '{}')
	c=$(syn-run start ./demo '{}')
	syn-run resume "$c" '{"approved": true}' > /dev/null
	run --separate-stderr syn-run ls
	assert_success
	assert_equal "$(echo "$output" | jq -r '.id + " " + .workflow + " " + .status + " " + .step')" "$a demo waiting_for_human approve
$b other completed x
$c demo completed commit"
	assert_equal "$(syn-run ls --status waiting_for_human | jq -r .id)" "$a"
	assert_equal "$(syn-run ls --workflow other | jq -r .id)" "$b"
	assert_equal "$(syn-run ls --workflow "$T/demo" --status completed | jq -r .id)" "$c"
	# a file as the user names it: relative, or by a path with ..
	assert_equal "$(syn-run ls --workflow ./demo --status completed | jq -r .id)" "$c"
	assert_equal "$(cd /tmp && syn-run ls --workflow "$T/../$(basename "$T")/demo" --status completed | jq -r .id)" "$c"
	assert_equal "$(syn-run ls -n 1 | jq -r .id)" "$c"
	run --separate-stderr syn-run ls --table
	assert_equal "${lines[0]}" "RUN                                  WORKFLOW         STATUS            STEP             STARTED"
	assert_equal "${#lines[@]}" 4
	run --separate-stderr syn-run ls --status nope
	assert_failure 2
}

@test "describe: the steps and their options, without running any command" {
	wf flow <<'W'
syn-step fetch --retry 2 --timeout 5 -- sh -c 'touch ran; echo {}' |
syn-step draft -m dummy-t2t --prompt 'Plan {{request}}' --to plan --scorer len=./len.sh |
syn-step approve --suspend 'OK?' --schema '{"ok": "boolean"}' |
syn-step done
W
	run --separate-stderr syn-run describe ./flow
	assert_success
	assert [ ! -e ran ]
	assert [ ! -e "$PANIC_DB" ]
	assert_equal "$output" '{"step":"fetch","kind":"command","command":["sh","-c","touch ran; echo {}"],"retry":2,"backoff":1,"timeout":5}
{"step":"draft","kind":"llm","model":"dummy-t2t","prompt":"Plan {{request}}","to":"plan","retry":0,"backoff":1,"scorers":{"len":"./len.sh"}}
{"step":"approve","kind":"pass","suspend":{"message":"OK?","schema":{"ok":"boolean"}}}
{"step":"done","kind":"pass"}'
	run --separate-stderr syn-run describe --table ./flow
	assert_success
	assert_equal "${lines[0]}" "STEP             KIND     WHAT"
	assert_equal "${#lines[@]}" 5
}

@test "describe and start refuse bad workflows: a name used twice, missing, not executable, a directory, bad options" {
	wf twice <<'W'
syn-step a --jq '{}' | syn-step b | syn-step a
W
	run --separate-stderr syn-run describe ./twice
	assert_failure 3
	assert_equal "$stderr" "syn-run: $T/twice: step name 'a' is used twice"
	run --separate-stderr syn-run start ./twice '{}'
	assert_failure 3
	assert_equal "$(sql 'select count(*) from workflow_runs' 2>/dev/null || echo 0)" 0
	wf plain <<'W'
syn-step a --jq '{}'
W
	chmod -x plain
	run --separate-stderr syn-run describe ./plain
	assert_failure 3
	assert_equal "$stderr" "syn-run: ./plain: not executable (chmod +x it)"
	mkdir dir
	run --separate-stderr syn-run describe ./dir
	assert_failure 3
	assert_equal "$stderr" "syn-run: ./dir: not a regular file"
	run --separate-stderr syn-run describe nosuch
	assert_failure 3
	err_has "nosuch: no such workflow"
	wf badopt <<'W'
syn-step a --retry many
W
	run --separate-stderr syn-run describe ./badopt
	assert_failure 3
	err_has "syn-step: --retry: expected a whole number"
	err_has "syn-run: $T/badopt: a stage cannot start (its reason is above)"
	# a stage with bad options before a good one: not hidden by the steps after it
	wf midbad <<'W'
syn-step ask --suspend 'How many?' --schema '{"n": "integer", "tags": "[string]"}' |
syn-step done
W
	run --separate-stderr syn-run describe ./midbad
	assert_failure 3
	assert_equal "$output" ""
	err_has "syn-run: $T/midbad: a stage cannot start (its reason is above)"
	run --separate-stderr syn-run start ./midbad '{}'
	assert_failure 3
	run --separate-stderr ./midbad <<< '{}'
	assert_failure 3
	assert_equal "$(sql 'select count(*) from workflow_runs' 2>/dev/null || echo 0)" 0
	wf junk <<'W'
echo hello
W
	run --separate-stderr syn-run describe ./junk
	assert_failure 3
	err_has "it printed a line that is not a step: hello"
}

@test "a workflow is found by name in SYN_PATH, never outside it; a symlink to one is followed" {
	mkdir -p wfs elsewhere
	wf wfs/mine <<'W'
syn-step a --jq '{a: 1}'
W
	wf elsewhere/secret <<'W'
syn-step s --jq '{s: 1}'
W
	ln -s ../elsewhere/secret wfs/linked
	export SYN_PATH=$T/wfs
	run --separate-stderr syn-run describe mine
	assert_success
	assert_equal "$(echo "$output" | jq -r .step)" a
	run --separate-stderr syn-run describe ./elsewhere/secret
	assert_success   # a path is a path, as in a shell
	run --separate-stderr syn-run describe secret
	assert_failure 3
	run --separate-stderr syn-run describe ..
	assert_failure 3
	run --separate-stderr syn-run describe linked
	assert_success
	id=$(syn-run start linked '{}')
	assert_equal "$(sql "select workflow_file from workflow_runs where id = '$id'")" "$T/elsewhere/secret"
}

@test "a workflow file runs on its own (#!/usr/bin/env syn-run) and through syn-run FILE alike" {
	wf flow <<'W'
syn-step a --jq '{a: (.n + 1)}' | syn-step b
W
	run --separate-stderr ./flow <<< '{"n": 1}'
	assert_success
	first=$output
	assert_equal "$(echo "$output" | jq -c 'del(._run)')" '{"n":1,"a":2}'
	run --separate-stderr syn-run ./flow <<< '{"n": 1}'
	assert_success
	assert_equal "$output" "$first"
	assert_equal "$(sql 'select status, workflow from workflow_runs')" "completed|flow"
}

@test "test: cases with their human inputs and expected fields, as TAP; a failure fails" {
	demo
	cat > cases.ndjson <<'C'
{"name": "approved", "input": {"request": "Plan a kickoff"}, "human_inputs": [{"approved": true}], "expect": {"approved": true, "announcement": "Approved: DUMMY_TEXT: ffokcik a nalP :rof nalp a tfarD"}}
{"name": "waits", "input": {}, "expect": {"request": "Plan a team kickoff"}, "status": "waiting_for_human"}
{"name": "wrong", "input": {}, "human_inputs": [{"approved": false}], "expect": {"approved": true}}
{"name": "bad answer", "input": {}, "human_inputs": [{"approved": "no"}]}
[1]
{"name": "\u001b]0;owned\u0007", "input": {}, "status": "\u001b[2J"}
C
	run --separate-stderr syn-run test ./demo cases.ndjson
	assert_failure 1
	assert_equal "${lines[0]}" "1..6"
	assert_equal "$(echo "$output" | grep -E '^(not )?ok' | tr '\n' '|')" \
		"ok 1 - approved|ok 2 - waits|not ok 3 - wrong|not ok 4 - bad answer|not ok 5 - case 5 (line 5)|not ok 6 - ␛]0;owned␇|"
	assert_line --partial ': .approved: expected true, got false'
	assert_line --partial "human input 1 at step approve: field 'approved': expected boolean, got string"
	assert_line --partial 'cases.ndjson:5: not a case (a JSON object)'
	# what the cases bring reaches the terminal harmless
	assert_line "# cases.ndjson:6: \"status\" must be a run's status, got '␛[2J'"
	[[ "$output" != *$'\e'* ]] || fail "an escape reached the output"
	err_has "syn-run: 4 of 6 cases failed"
	head -2 cases.ndjson > good.ndjson
	run --separate-stderr syn-run test ./demo good.ndjson
	assert_success
	assert_equal "$output" "1..2
ok 1 - approved
ok 2 - waits"
}

@test "events: started, waiting_for_human, resumed, stopped on synaptic:run:RUN, from syn-run and the stages" {
	demo
	listen syn-run start ./demo '{}'
	id=$(cat out)
	assert_equal "$(jq -r "select(.run_id == \"$id\" and .at) | .event" events | tr '\n' ' ')" \
		"started step_completed step_completed waiting_for_human "
	assert_equal "$(jq -c 'select(.event == "start" or .event == "stop") | [.event, .run_id, .step, .model]' events)" \
		"[\"start\",\"$id\",\"draft\",\"dummy-t2t\"]
[\"stop\",\"$id\",\"draft\",\"dummy-t2t\"]"
	listen syn-run resume "$id" '{"approved": true}'
	assert_equal "$(jq -r '.event + ":" + (.step // "")' events | tr '\n' ' ')" \
		"resumed:approve step_completed:approve step_completed:announce step_completed:commit completed:commit "
	id2=$(syn-run start ./demo '{}')
	listen syn-run stop "$id2"
	assert_equal "$(jq -c '[.event, .run_id, .step, .reason]' events)" "[\"stopped\",\"$id2\",\"approve\",\"stopped by syn-run stop\"]"
}

@test "export: a run as a Braintrust experiment event, steps, model calls and scores joined" {
	cat > score.sh <<'S'
#!/bin/sh
jq -c '{score: (if (.plan | length) > 10 then 1 else 0 end), why: "long enough"}'
S
	chmod +x score.sh
	wf flow <<'W'
syn-step draft -m dummy-t2t --prompt 'Plan {{request}}' --to plan --scorer long=./score.sh |
syn-step judge --score -- ./score.sh
W
	id=$(syn-run start ./flow '{"request": "cats"}')
	run --separate-stderr syn-run export "$id"
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.id == .span_id, .root_span_id == .id, .input, .output, .scores, .span_attributes, .tags]')" \
		'[true,true,{"request":"cats"},{"request":"cats","plan":"DUMMY_TEXT: stac nalP"},{"long":1,"judge":1},{"name":"flow","type":"task"},["completed"]]'
	assert_equal "$(echo "$output" | jq -c '.metadata | [.workflow, .status, (.steps | map(.step)), (.calls | map([.model, .step, .prompt, .response])), (.scores | length)]')" \
		'["flow","completed",["draft","judge"],[["dummy-t2t","draft","Plan cats","DUMMY_TEXT: stac nalP"]],2]'
	assert_equal "$(echo "$output" | jq -c '.metrics | [(.start | type), .end >= .start]')" '["number",true]'
	assert_equal "$(syn-run export --all | wc -l)" 1
	run --separate-stderr syn-run export
	assert_failure 2
}
