#!/usr/bin/env bats
# syn-step's model steps and scorers: prompts from the context, the call
# log and llm events linked to the run and step, streaming as events,
# tools, retries and timeouts over HTTP (tests/bin/fake-api), scores.

bats_require_minimum_version 1.5.0
load helper
load flow

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/panic-test.XXXXXX")
	export PANIC_DB=$T/state/panic.db PANIC_BUS=$T/bus
	export XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state XDG_RUNTIME_DIR=$T/run
	unset PANIC_MODELS PANIC_KEYS PANIC_PROFILES OPENAI_API_KEY REPLICATE_API_TOKEN \
		GEMINI_API_KEY FAKE_KEY PANIC_DUMMY_FAIL PANIC_DUMMY_FAIL_FIRST SYN_PATH
	cd "$T"
	export FAKE_KEY_FILE=$T/fake-key
	fake-api "$T/port" "$T/log" 2> "$T/fake.err" &
	wait_for test -s "$T/port"
	export OPENAI_BASE_URL=http://127.0.0.1:$(cat "$T/port")/v1
	export PANIC_HTTP_BACKOFF_MS=20
}

requests() { jq -c --arg re "$1" 'select(.path | test($re))' "$T/log"; }

@test "a model step: the prompt and system prompt from the context, the answer in --to, the call logged with run and step" {
	listen sh -c 'echo "{\"request\": \"kickoff\", \"who\": \"team\"}" |
		syn-step draft -m openai:gpt-4o-mini --system "Plan for the {{who}}" --prompt "Plan a {{request}}" --to plan'
	id=$(jq -r ._run out)
	assert_equal "$(jq -c 'del(._run)' out)" '{"request":"kickoff","who":"team","plan":"(system: Plan for the team) echo: Plan a kickoff"}'
	assert_equal "$(requests chat | jq -c .body.messages)" '[{"role":"system","content":"Plan for the team"},{"role":"user","content":"Plan a kickoff"}]'
	assert_equal "$(sql "select model, run_id = '$id', step, prompt, input_tokens, output_tokens, state from calls")" \
		"openai:gpt-4o-mini|1|draft|Plan a kickoff|3|9|completed"
	assert_equal "$(jq -c 'select(.event == "start" or .event == "stop") | [.event, .run_id == "'"$id"'", .step, .model, .usage]' events)" \
		'["start",true,"draft","openai:gpt-4o-mini",null]
["stop",true,"draft","openai:gpt-4o-mini",{"input_tokens":3,"output_tokens":9}]'
	assert_equal "$(sql "select result from workflow_steps")" '{"plan":"(system: Plan for the team) echo: Plan a kickoff"}'
}

@test "--stream: the answer as stream_chunk events on the run's topic, then stream_done" {
	listen sh -c 'echo "{\"q\": \"one two three four five\"}" | syn-step say -m openai:m --prompt "{{q}}" --stream'
	id=$(jq -r ._run out)
	assert_equal "$(jq -r .say out)" "echo: one two three four five"
	assert [ "$(jq -r 'select(.event == "stream_chunk") | .chunk' events | wc -l)" -gt 3 ]
	assert_equal "$(jq -j 'select(.event == "stream_chunk") | .chunk' events)" "echo: one two three four five"
	assert_equal "$(jq -c 'select(.event == "stream_done") | [.run_id == "'"$id"'", .step, .text]' events)" \
		'[true,"say","echo: one two three four five"]'
	assert_equal "$(requests chat | jq -c .body.stream)" true
	# a model that does not stream gives one chunk, the whole answer
	listen sh -c 'echo "{\"q\": \"hi\"}" | syn-step say -m dummy-t2t --prompt "{{q}}" --stream'
	assert_equal "$(jq -c 'select(.event == "stream_chunk") | .chunk' events)" '"DUMMY_TEXT: ih"'
}

@test "--tool: the model calls a program; --output-schema: the answer merged as JSON" {
	cat > lookup <<'S'
#!/bin/sh
printf 'found(%s)' "$(cat)"
S
	chmod +x lookup
	run --separate-stderr sh -c 'echo "{\"q\": \"please usetool\"}" | syn-step ask -m openai:m --prompt "{{q}}" --tool "lookup=$PWD/lookup"'
	assert_success
	assert_equal "$(echo "$output" | jq -r .ask)" 'tool said: found({"q": "please usetool"})'
	run --separate-stderr sh -c 'echo "{\"q\": \"x\"}" | syn-step ask -m openai:m --prompt "{{q}}" --output-schema "{\"type\": \"object\"}"'
	assert_success
	assert_equal "$(echo "$output" | jq -c .ask)" '{"echo":"x"}'
	run --separate-stderr syn-step ask -m dummy-t2t --prompt x --tool "l=$PWD/lookup"
	assert_failure 3
	err_has "cannot call tools"
}

@test "a model that fails is retried, each attempt logged with the run and step; then the fallback or the run's failure" {
	listen sh -c 'echo "{\"q\": \"e500:99\"}" | syn-step ask -m openai:m --prompt "{{q}}" --retry 1 --backoff 0.01' 2>/dev/null || true
	id=$(jq -r ._run out)
	assert_equal "$(jq -c '[._status, ._error.kind, ._error.step]' out)" '["failed","http_5xx","ask"]'
	assert_equal "$(sql "select count(*), min(run_id = '$id'), min(step) from calls where state = 'failed'")" "2|1|ask"
	assert_equal "$(jq -r 'select(.at) | .event' events | tr '\n' ' ')" "started step_error retrying step_error failed "
	assert_equal "$(jq -r 'select(.event == "exception") | .step' events | sort -u)" ask
	run --separate-stderr sh -c 'echo "{\"q\": \"e500:99\"}" | syn-step ask -m openai:m --prompt "{{q}}" --fallback "{\"ask\": \"canned\"}"'
	assert_success
	assert_equal "$(echo "$output" | jq -r .ask)" canned
}

@test "a model without its key fails the step at once: a configuration error is not retried" {
	run --separate-stderr env -u OPENAI_BASE_URL sh -c 'echo "{\"q\": \"x\"}" | syn-step ask -m openai:gpt-4o-mini --prompt "{{q}}" --retry 2 --backoff 5'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '[._status, ._error.kind]')" '["failed","no_key"]'
	assert_equal "$(sql 'select attempts from workflow_steps')" 1
	assert_equal "$(sql "select count(*) from workflow_events where event = 'retrying'")" 0
}

@test "a model that never answers: --timeout fails the attempt" {
	run --separate-stderr sh -c 'echo "{\"q\": \"hang\"}" | syn-step ask -m openai:m --prompt "{{q}}" --timeout 0.5'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r ._error.kind)" timeout
}

@test "a prompt naming what the context lacks fails the step at once: no call, no retry" {
	run --separate-stderr sh -c 'echo "{}" | syn-step ask -m openai:m --retry 3 --prompt "Plan {{request}}"'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '._error | [.kind, .message]')" '["template","template: the context has no request"]'
	assert_equal "$(requests chat)" ""
	assert_equal "$(sql 'select count(*) from calls')" 0
}

@test "scorers: after a step, or a step of its own; scores are rows and events; a broken scorer fails nothing" {
	cat > length <<'S'
#!/bin/sh
jq -c '{score: ((.plan | length) / 100), why: "length"}'
S
	cat > broken <<'S'
#!/bin/sh
echo 'not a score'
S
	chmod +x length broken
	listen sh -c 'echo "{\"request\": \"cats\"}" |
		syn-step draft -m dummy-t2t --prompt "Plan {{request}}" --to plan --scorer len=./length --scorer bad=./broken |
		syn-step judge --score -- ./length'
	id=$(jq -r ._run out)
	assert_equal "$(jq -c 'del(._run)' out)" '{"request":"cats","plan":"DUMMY_TEXT: stac nalP"}'
	assert_equal "$(sql "select step, scorer, score, json_extract(result, '\$.why'), json_extract(error, '\$.kind') from workflow_scores order by step, scorer")" \
		"draft|bad|||bad_response
draft|len|0.21|length|
judge|judge|0.21|length|"
	assert_equal "$(jq -c 'select(.event == "scorer") | [.step, .scorer, .score, .error.kind]' events)" \
		'["draft","len",0.21,null]
["draft","bad",null,"bad_response"]
["judge","judge",0.21,null]'
	assert_equal "$(run_status "$id")" completed
	stderr=$(cat err)
	err_has "scorer bad of step draft failed: expected {\"score\": NUMBER, ...}"
	# replayed, a step's scorers do not run again
	echo "{\"_run\": \"$id\", \"request\": \"cats\"}" | syn-step draft -m dummy-t2t --prompt "Plan {{request}}" --to plan --scorer len=./length > /dev/null
	assert_equal "$(sql 'select count(*) from workflow_scores')" 3
}
