#!/usr/bin/env bats
# panic-web's agents admin: the list (status, live state, abilities,
# responsibilities, last error), show, create and edit with agent-ctl's
# checks (every field's error next to its field, nothing stored),
# activate and deactivate, /api/agents with agent-ctl's records, each
# change on agents:changed; escaping, CSRF and hostile input. The last
# test does it in headless Chromium.

bats_require_minimum_version 1.5.0
load helper
load web

subscribed() { ls "$PANIC_BUS" 2>/dev/null | grep -q '^sub\.'; }
lines_in() { [ "$(wc -l < "$1")" -ge "$2" ]; }
# form PATH FIELD=VALUE...: a form POST with the CSRF token; the page, then its status code
form() {
	local path=$1 a=()
	shift
	for f in "$@"; do a+=(--data-urlencode "$f"); done
	curl -s -w '\n%{http_code}' -X POST --data-urlencode "csrf=$(csrf)" "${a[@]}" "$URL$path"
}

@test "the list and the API: agent-ctl's records, live state, last error escaped" {
	agent-ctl add scout -a echo -r 'cron:0 9 * * *' -r 'event:docs:*' --status active > /dev/null
	agent-ctl add quiet > /dev/null
	sql "update agents set last_error = '<script>alert(1)</script>' where name = 'quiet'"
	start_web
	run curl -s "$URL/api/agents"
	assert_equal "$output" "$(agent-ctl list | jq -sc .)"
	run curl -s "$URL/api/agents/scout"
	assert_equal "$output" "$(agent-ctl show scout)"
	run curl -s "$URL/api/agents/quiet/status"
	assert_equal "$output" "$(agent-ctl status quiet)"
	run api "$URL/api/agents/nope"
	assert_output "{\"error\":\"no agent 'nope'\"} 404"
	run api "$URL/api/agents/..%2fetc"
	assert_output '{"error":"not found"} 404'
	run curl -s "$URL/agents"
	assert_success
	refute_output --partial '<script>'
	assert_output --partial '<tr><td class=name><a href="/agents/quiet">quiet</a></td><td class=status>inactive</td><td class=state>stopped</td><td><span class=meta>none</span></td><td><span class=meta>none</span></td><td class=error>&lt;script&gt;alert(1)&lt;/script&gt;</td>'
	assert_output --partial '<td class=name><a href="/agents/scout">scout</a></td><td class=status>active</td><td class=state>stopped</td><td><code>echo</code></td><td><code>cron:0 9 * * *</code><br><code>event:docs:*</code></td>'
	assert_output --partial 'action="/agents/scout/deactivate"'
	assert_output --partial 'action="/agents/quiet/activate"'
	run curl -s "$URL/agents/scout"
	assert_output --partial '<textarea id="a-responsibilities" name=responsibilities rows=3>cron:0 9 * * *
event:docs:*
</textarea>'
	assert_output --partial '<option selected>active</option>'
}

@test "edit: an invalid schedule and other bad fields are refused next to their fields, with agent-ctl's messages; nothing stored" {
	agent-ctl add scout -a echo -r 'cron:0 9 * * *' > /dev/null
	before=$(agent-ctl show scout)
	start_web
	run form /agents/scout name=scout status=active abilities=$'echo\nnope' \
		responsibilities=$'cron:61 * * * *\n{"trigger": "every:1h", "name": "x"}' 'llm_config={"model": 5}' \
		'retry_policy={broken' concurrency=0
	assert_equal "${lines[-1]}" 422
	assert_output --partial '<span class="error" role=alert>responsibilities[0]: cron &#39;61 * * * *&#39;: minute: 61 is out of range 0-59</span>'
	assert_output --partial '<textarea id="a-retry_policy" name=retry_policy rows=4>{broken</textarea><span class="error" role=alert>retry_policy: not JSON:'
	assert_output --partial '>cron:61 * * * *'
	# every field's error at once
	run form /agents/scout name=scout status=active abilities=$'echo\nnope' \
		responsibilities=$'cron:61 * * * *' 'llm_config={"model": 5}' 'retry_policy={}' concurrency=0
	assert_equal "${lines[-1]}" 422
	assert_equal "$(grep -o 'role=alert>[a-z_]*' <<<"$output" | sed 's/.*>//' | tr '\n' ' ')" \
		'abilities responsibilities llm_config retry_policy concurrency '
	assert_output --partial "abilities[1]: no ability &#39;nope&#39;"
	assert_output --partial 'llm_config.model: not a string'
	assert_output --partial 'retry_policy: type must be &quot;fixed&quot; or &quot;exponential_backoff&quot;'
	assert_output --partial 'concurrency: a whole number from 1 to 256'
	# the same message agent-ctl gives for the schedule
	run --separate-stderr agent-ctl set scout -r 'cron:61 * * * *'
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: responsibilities[0]: cron '61 * * * *': minute: 61 is out of range 0-59"
	assert_equal "$(agent-ctl show scout)" "$before"
}

@test "edit, create, activate, deactivate: stored as agent-ctl stores them, each published on agents:changed" {
	agent-ctl add scout -a echo -r 'cron:0 9 * * *' > /dev/null
	id=$(agent-ctl show scout | jq -r .id)
	panic-bus sub agents:changed > events &
	wait_for subscribed
	start_web
	run form /agents/scout name=scout status=inactive abilities=echo \
		responsibilities=$'cron:*/5 * * * *\n{"trigger": "every:1h", "name": "hourly"}' \
		'prompts={"t": "Say {{input}}"}' 'retry_policy={"type": "fixed", "max_retries": 1, "delay_ms": 10}' concurrency=2
	assert_equal "${lines[-1]}" 303
	assert_equal "$(agent-ctl show scout | jq -c '[.id == "'"$id"'", .responsibilities, .prompts, .retry_policy, .concurrency]')" \
		'[true,["cron:*/5 * * * *",{"trigger":"every:1h","name":"hourly"}],{"t":"Say {{input}}"},{"type":"fixed","max_retries":1,"delay_ms":10},2]'
	run curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -X POST -d "csrf=$(csrf)" "$URL/agents/scout/activate"
	assert_output "303 $URL/agents?done=activated&agent=scout"
	assert_equal "$(agent-ctl show scout | jq -r .status)" active
	run form /agents/new name=writer abilities=echo responsibilities=stdin status=inactive
	assert_equal "${lines[-1]}" 303
	assert_equal "$(agent-ctl show writer | jq -c '[.status, .abilities, .responsibilities]')" '["inactive",["echo"],["stdin"]]'
	run form /agents/new name=writer
	assert_equal "${lines[-1]}" 422
	assert_output --partial "agent &#39;writer&#39; already exists"
	run post /api/agents/scout/deactivate ''
	assert_equal "$(jq -r .status <<<"${output% *}")" inactive
	run post /api/agents '{"name": "api", "abilities": ["echo"], "responsibilities": ["every:5m"]}'
	assert_equal "${output##* }" 201
	assert_equal "${output% *}" "$(agent-ctl show api)"
	run post /api/agents/api '{"concurrency": 3}'
	assert_equal "$(jq -c '[.name, .concurrency, .abilities]' <<<"${output% *}")" '["api",3,["echo"]]'
	wait_for lines_in events 6
	assert_equal "$(jq -r '.data | "\(.event) \(.agent.name) \(.agent.status)"' events)" \
		'updated scout inactive
updated scout active
created writer inactive
updated scout inactive
created api inactive
updated api inactive'
}

@test "the API refuses bad agents with every field's error; CSRF; hostile names and bodies" {
	start_web
	run post /api/agents '{"name": "-x", "status": "on", "responsibilities": ["cron:* * *"], "extra": 1}'
	assert_equal "${output##* }" 422
	assert_equal "$(jq -c '[.errors[].field]' <<<"${output% *}")" '["extra","name","status","responsibilities"]'
	assert_equal "$(jq -r .error <<<"${output% *}")" "'extra': unknown field (id, name, status, llm_config, prompts, abilities, responsibilities, retry_policy, concurrency, last_error, inserted_at, updated_at)"
	run post /api/agents '[1]'
	assert_output '{"error":"expected a JSON object (an agent'"'"'s fields)"} 400'
	run post /api/agents '{broken'
	assert_output --regexp '^\{"error":"the body is not JSON: .*"\} 400$'
	run api -X POST -d '{"name": "x"}' "$URL/api/agents"
	assert_output --partial ' 403'
	run api -X POST -d "name=x" "$URL/agents/new"
	assert_output --partial ' 403'
	run post /api/agents "{\"name\": \"$(head -c 100 /dev/zero | tr '\0' a)\"}"
	assert_equal "$(jq -r .errors[0].field <<<"${output% *}")" name
	run post /api/agents '{"name": "n", "prompts": {"t": "a\u0000b"}}'
	assert_equal "${output##* }" 201
	run api "$URL/agents/%3Cscript%3E"
	assert_output --partial ' 404'
	refute_output --partial '<script>'
	assert_equal "$(agent-ctl list | jq -r .name)" n
}

@test "in Chromium: an invalid schedule shows its error next to the field; a valid one saves; activate from the list" {
	load npm
	npm_oracles playwright-core@1.56.1
	agent-ctl add scout -a echo -r 'cron:0 9 * * *' > /dev/null
	agent-ctl add other > /dev/null
	sql "update agents set last_error = '<img src=x onerror=\"window.pwned=1\">' where name = 'other'"
	start_web
	out=$TOP/build/test-output/530-web-agents
	rm -rf "$out" && mkdir -p "$out"
	run --separate-stderr timeout 120 node "$TOP/tests/web/agents.js" "$URL" scout "$out"
	[ "$status" = 0 ] || fail "browser: $stderr"
	r=$output
	assert_equal "$(jq -c '[.listed, .last_error, .pwned]' <<<"$r")" '[["other","scout"],["<img src=x onerror=\"window.pwned=1\">",""],null]'
	assert_equal "$(jq -r .error <<<"$r")" "responsibilities[0]: cron '0 25 * * *': hour: 25 is out of range 0-23"
	assert_equal "$(jq -r .kept <<<"$r")" 'cron:0 25 * * *'
	assert_equal "$(jq -c '[.saved_at, .saved, .errors_shown]' <<<"$r")" '["/agents/scout?saved=1","cron:30 8 * * mon-fri\n",0]'
	assert_equal "$(jq -c '[.status, .notice, .errors]' <<<"$r")" '["active","scout activated",[]]'
	assert_equal "$(agent-ctl show scout | jq -c '[.status, .responsibilities]')" '["active",["cron:30 8 * * mon-fri"]]'
	for f in $(jq -r '.shots[]' <<<"$r"); do
		[ -s "$f" ] || fail "no screenshot $f"
		echo "# screenshot: $f" >&3
	done
}
