#!/usr/bin/env bats
# panic-web's runs that wait for a human: the list with message and
# metadata, the form made from each schema, resuming through it as
# syn-run resume does (the same checks and messages, errors next to their
# fields, wrong types refused), a run's history page, /api/runs; escaping,
# CSRF and hostile input. The last test does it in headless Chromium.

bats_require_minimum_version 1.5.0
load helper
load web
load flow


completed() { [ "$(run_status "$1")" = completed ]; }

# a workflow that asks for every type, with markup in its message and metadata
ask() {
	wf ask <<'W'
syn-step ask --suspend 'Check <b>{{who}}</b>?' --metadata '{"who": "{{who}}", "n": 1}' \
	--schema '{"ok": "boolean", "n": "integer", "x": "float", "name": "string", "note": "string?", "tags": ["string"], "opts": "map?"}' |
syn-step done --jq '{answer: .human_input}'
W
	syn-run start ./ask "{\"who\": \"$1\"}"
}

@test "the list: each waiting run with its message, metadata and a form made from its schema; /api/runs" {
	id=$(ask '<script>alert(1)</script>')
	wf plain <<'W'
syn-step a --jq '{}' | syn-step b --suspend 'Go on?'
W
	id2=$(syn-run start ./plain)
	syn-run start ./plain > /dev/null
	syn-run stop "$(syn-run ls --json | jq -r 'select(.id != "'"$id"'" and .id != "'"$id2"'") | .id')"
	start_web
	run curl -s "$URL/api/runs"
	assert_success
	assert_equal "$(jq -c '[.[] | [.id, .workflow, .step, .message, .metadata, .schema]]' <<<"$output")" \
		"[[\"$id\",\"ask\",\"ask\",\"Check <b><script>alert(1)</script></b>?\",{\"who\":\"<script>alert(1)</script>\",\"n\":1},{\"ok\":\"boolean\",\"n\":\"integer\",\"x\":\"float\",\"name\":\"string\",\"note\":\"string?\",\"tags\":[\"string\"],\"opts\":\"map?\"}],[\"$id2\",\"plain\",\"b\",\"Go on?\",{},null]]"
	# the same as syn-run inspect's waiting
	assert_equal "$(jq -c '.[0] | {step, message, metadata, schema}' <<<"$output")" "$(syn-run inspect --json "$id" | jq -c .waiting)"
	run curl -s "$URL/runs"
	assert_success
	refute_output --partial '<script>'
	refute_output --partial '<b>'
	assert_output --partial '<p class=message>Check &lt;b&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/b&gt;?</p>'
	assert_output --partial "action=\"/runs/$id/resume\""
	assert_output --partial '<input type=hidden name=step value="ask">'
	assert_output --partial '<input type=checkbox value=true id="r0-0" name="f.ok">'
	assert_output --partial '<input type=number step=1 id="r0-1" name="f.n">'
	assert_output --partial '<input type=number step=any id="r0-2" name="f.x">'
	assert_output --partial '<input type=text id="r0-3" name="f.name">'
	assert_output --partial '<input type=text id="r0-4" name="f.note">'
	assert_output --partial '<textarea rows=3 placeholder=JSON id="r0-5" name="f.tags"></textarea>'
	assert_output --partial '<textarea rows=3 placeholder=JSON id="r0-6" name="f.opts"></textarea>'
	assert_output --partial 'no fields asked for'
	assert_equal "$(grep -c 'name=csrf value="[0-9a-f]\{64\}"' <<<"$output")" 2
}

@test "the form: wrong types and missing fields refused with syn-run's messages next to their fields; nothing stored" {
	id=$(ask ann)
	start_web
	c=$(csrf)
	run curl -s -w '\n%{http_code}' -X POST --data-urlencode "csrf=$c" --data-urlencode step=ask \
		--data-urlencode 'f.n=3.5' --data-urlencode 'f.x=abc' --data-urlencode 'f.tags=["a",2]' \
		--data-urlencode 'f.opts={broken' --data-urlencode 'f.note=<i>kept</i>' "$URL/runs/$id/resume"
	assert_equal "${lines[-1]}" 422
	assert_output --partial "<p class=\"error\" role=status>run $id: the answer was refused (see below)</p>"
	assert_output --partial '<input type=number step=1 value="3.5" id="r0-1" name="f.n"><span class="error" role=alert>field &#39;n&#39;: expected integer, got float</span>'
	assert_output --partial '<input type=number step=any value="abc" id="r0-2" name="f.x"><span class="error" role=alert>field &#39;x&#39;: expected float, got string</span>'
	assert_output --partial 'name="f.name"><span class="error" role=alert>missing field &#39;name&#39;</span>'
	assert_output --partial 'value="&lt;i&gt;kept&lt;/i&gt;" id="r0-4" name="f.note"></div>'
	assert_output --partial 'name="f.tags">[&quot;a&quot;,2]</textarea><span class="error" role=alert>field &#39;tags[1]&#39;: expected string, got integer</span>'
	assert_output --partial 'name="f.opts">{broken</textarea><span class="error" role=alert>field &#39;opts&#39;: expected map, got string</span>'
	# the messages are syn-run resume's
	run --separate-stderr syn-run resume "$id" '{"ok": false, "n": 3.5, "x": 1, "name": "a", "tags": []}'
	assert_failure 3
	assert_equal "$stderr" "syn-run: run $id, step ask: field 'n': expected integer, got float"
	assert_equal "$(run_status "$id")" waiting_for_human
	assert_equal "$(sql "select state, coalesce(human_input, '-') from workflow_steps where step = 'ask'")" 'suspended|-'
	assert_equal "$(sql "select count(*) from workflow_events where event = 'resumed'")" 0
}

@test "the form resumes the run as syn-run resume does: typed answer stored, the run driven on, its history page" {
	id=$(ask '<b>bo</b>')
	start_web
	c=$(csrf)
	run curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -X POST --data-urlencode "csrf=$c" \
		--data-urlencode step=ask --data-urlencode 'f.ok=true' --data-urlencode 'f.n= 42 ' \
		--data-urlencode 'f.x=2.5' --data-urlencode 'f.name=<i>me</i>' --data-urlencode 'f.note=' \
		--data-urlencode 'f.tags=["a", "b"]' "$URL/runs/$id/resume"
	assert_output "303 $URL/runs/$id"
	wait_for completed "$id"
	assert_equal "$(sql "select human_input from workflow_steps where step = 'ask'")" \
		'{"ok":true,"n":42,"x":2.5,"name":"<i>me</i>","tags":["a","b"]}'
	assert_equal "$(syn-run inspect --json "$id" | jq -c .context.answer)" \
		'{"ok":true,"n":42,"x":2.5,"name":"<i>me</i>","tags":["a","b"]}'
	# the history page: syn-run history's events, escaped
	run curl -s "$URL/runs/$id"
	assert_success
	assert_output --partial '<span class="status" id=status>completed</span>'
	refute_output --partial '<i>me'
	refute_output --partial '<b>bo'
	assert_equal "$(grep -o '<td class=event>[a-z_]*</td>' <<<"$output" | sed 's/<[^>]*>//g' | tr '\n' ' ')" \
		'started waiting_for_human resumed step_completed step_completed completed '
	run curl -s "$URL/api/runs/$id/history"
	assert_equal "$output" "$(syn-run history "$id" | jq -sc .)"
	run curl -s "$URL/api/runs/$id"
	assert_equal "$output" "$(syn-run inspect --json "$id")"
	# answered: gone from the list, and a second answer is refused
	assert_equal "$(curl -s "$URL/api/runs")" '[]'
	run curl -s -w '\n%{http_code}' -X POST --data-urlencode "csrf=$c" --data-urlencode step=ask "$URL/runs/$id/resume"
	assert_equal "${lines[-1]}" 409
	assert_output --partial "run $id: run $id does not wait for a human: it is completed"
}

@test "the API: the answer as JSON, every field's error, refusals, unknown runs, bad bodies" {
	id=$(ask ann)
	start_web
	run post "/api/runs/$id/resume" '{"ok": "yes", "n": 1, "x": 1, "tags": "a"}'
	assert_output "{\"error\":\"field 'ok': expected boolean, got string\",\"errors\":[{\"field\":\"ok\",\"message\":\"field 'ok': expected boolean, got string\"},{\"field\":\"name\",\"message\":\"missing field 'name'\"},{\"field\":\"tags\",\"message\":\"field 'tags': expected list, got string\"}]} 422"
	run post "/api/runs/$id/resume" '[1]'
	assert_output "{\"error\":\"expected a JSON object, got array\",\"errors\":[{\"field\":null,\"message\":\"expected a JSON object, got array\"}]} 422"
	run post "/api/runs/$id/resume" '{broken'
	assert_output --regexp '^\{"error":"the body is not JSON: .*"\} 400$'
	run post "/api/runs/$id/resume?step=other" '{}'
	assert_output "{\"error\":\"run $id waits at step ask, not other\"} 409"
	run post "/api/runs/01a20000-0000-7000-8000-000000000000/resume" '{}'
	assert_output "{\"error\":\"unknown run '01a20000-0000-7000-8000-000000000000'\"} 404"
	run api "$URL/api/runs/01a20000-0000-7000-8000-000000000000"
	assert_output "{\"error\":\"unknown run '01a20000-0000-7000-8000-000000000000'\"} 404"
	run api "$URL/api/runs/$id/nope"
	assert_output '{"error":"not found"} 404'
	# no CSRF token: refused before anything is read
	run api -X POST -d '{"ok": true}' "$URL/api/runs/$id/resume"
	assert_output --partial ' 403'
	assert_equal "$(run_status "$id")" waiting_for_human
	run post "/api/runs/$id/resume?step=ask" '{"ok": true, "n": -3, "x": 0.5, "name": "", "tags": [], "opts": {"k": [1]}}'
	assert_output "{\"run_id\":\"$id\",\"step\":\"ask\",\"human_input\":{\"ok\":true,\"n\":-3,\"x\":0.5,\"name\":\"\",\"tags\":[],\"opts\":{\"k\":[1]}}} 202"
	wait_for completed "$id"
	assert_equal "$(sql "select count(*) from workflow_events where event = 'resumed'")" 1
}

@test "hostile input: huge answers, NUL, invalid UTF-8, odd run ids, a schema of many fields" {
	id=$(ask ann)
	start_web
	c=$(csrf)
	# an answer too large to hand to syn-run
	head -c 200000 /dev/zero | tr '\0' a > big
	run curl -s -w '\n%{http_code}' -X POST --data-urlencode "csrf=$c" --data-urlencode step=ask --data-urlencode f.ok=true \
		--data-urlencode f.n=1 --data-urlencode f.x=1 --data-urlencode f.tags=[] --data-urlencode f.name@big "$URL/runs/$id/resume"
	assert_equal "${lines[-1]}" 500
	assert_output --partial 'the answer is too large (at most 100000 bytes of JSON)'
	# NUL and invalid UTF-8 in a field: not taken (a missing field), the page still escapes
	run curl -s -w '\n%{http_code}' -X POST --data "csrf=$c&step=ask&f.ok=true&f.n=1&f.x=1&f.tags=%5B%5D&f.name=a%00b" "$URL/runs/$id/resume"
	assert_equal "${lines[-1]}" 422
	assert_output --partial "missing field &#39;name&#39;"
	run curl -s -w '\n%{http_code}' -X POST --data "csrf=$c&step=ask&f.ok=true&f.n=1&f.x=1&f.tags=%5B%5D&f.name=%ff%fe" "$URL/runs/$id/resume"
	assert_equal "${lines[-1]}" 422
	for bad in "x'%20or%201=1" '..%2f..%2fetc' "$(head -c 100 /dev/zero | tr '\0' 9)"; do
		run api "$URL/api/runs/$bad"
		assert_output --regexp '\{"error":"(not found|unknown run .*)"\} 404'
	done
	assert_equal "$(run_status "$id")" waiting_for_human
	# a schema of 300 fields makes a form of 300 fields
	s=$(jq -nc '[range(300) | {key: "f\(.)", value: "integer"}] | from_entries')
	wf wide <<W
syn-step w --suspend 'Many?' --schema '$s'
W
	wid=$(syn-run start ./wide)
	run curl -s "$URL/runs"
	assert_equal "$(grep -c 'type=number step=1' <<<"$output")" 301 # and ask's n
	run post "/api/runs/$wid/resume" '{}'
	assert_equal "$(jq '.errors | length' <<<"${output% *}")" 100
}

@test "in Chromium: a wrong-type answer is refused next to its field, then the run is approved through its form" {
	load npm
	npm_oracles playwright-core@1.56.1
	wf approve <<'W'
syn-step approve --suspend 'Approve <img src=x onerror="window.pwned=1">?' --schema '{"ok": "boolean", "n": "integer", "note": "string?"}' |
syn-step done --jq '{answer: .human_input}'
W
	id=$(syn-run start ./approve)
	start_web
	out=$TOP/build/test-output/520-web-runs
	rm -rf "$out" && mkdir -p "$out"
	run --separate-stderr timeout 120 node "$TOP/tests/web/runs.js" "$URL" "$id" "$out"
	[ "$status" = 0 ] || fail "browser: $stderr"
	r=$output
	assert_equal "$(jq -r .message <<<"$r")" 'Approve <img src=x onerror="window.pwned=1">?'
	assert_equal "$(jq -r .refused_status <<<"$r")" "run $id: the answer was refused (see below)"
	assert_equal "$(jq -r .n_error <<<"$r")" "field 'n': expected integer, got float"
	assert_equal "$(jq -c '[.n_kept, .note_kept, .still_waiting]' <<<"$r")" '["3.5","<b>bold?</b>",true]'
	assert_equal "$(jq -r .landed <<<"$r")" "/runs/$id"
	assert_equal "$(jq -r .status <<<"$r")" completed
	assert_equal "$(jq -c .events <<<"$r")" '["started","waiting_for_human","resumed","step_completed","step_completed","completed"]'
	assert_equal "$(jq -c '[.bold, .pwned, .errors]' <<<"$r")" '[0,null,[]]'
	assert_equal "$(sql "select human_input from workflow_steps where step = 'approve'")" '{"ok":true,"n":7,"note":"<b>bold?</b>"}'
	for f in $(jq -r '.shots[]' <<<"$r"); do
		[ -s "$f" ] || fail "no screenshot $f"
		echo "# screenshot: $f" >&3
	done
}

@test "the workflow resumed from the web does not see the server's token" {
	wf tok <<'W'
syn-step ask --suspend 'OK?' |
syn-step seen -- sh -c 'cat > /dev/null; printf "{\"token\": \"%s\"}" "${PANIC_WEB_TOKEN:-none}"'
W
	id=$(syn-run start ./tok)
	export PANIC_WEB_TOKEN=abcdefghijklmnop0123
	start_web
	auth=(-H "Authorization: Bearer $PANIC_WEB_TOKEN")
	c=$(curl -s "${auth[@]}" "$URL/api/csrf" | jq -r .csrf)
	run api "${auth[@]}" -X POST -H "X-CSRF-Token: $c" -d '{}' "$URL/api/runs/$id/resume"
	assert_output "{\"run_id\":\"$id\",\"step\":\"ask\",\"human_input\":{}} 202"
	wait_for completed "$id" || fail "$(cat "$T/web.err"; syn-run inspect --json "$id")"
	assert_equal "$(syn-run inspect --json "$id" | jq -r .context.token)" none
}
