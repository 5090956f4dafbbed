#!/usr/bin/env bats
# panic-web with curl: routes and their exact records, the displays and
# their live stream, the networks page and its prompt box, escaping, the
# token, CSRF, the address binding, path traversal, bad and hostile input.

bats_require_minimum_version 1.5.0
load helper
load web

# code URL [CURL OPTION]...: the status code of a GET
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

@test "the display API holds panic-watch's slots; the page shows them escaped" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	echo '<script>alert(1)</script>' | panic-loop art --pace 0 --max 5 > /dev/null
	start_web
	run curl -s "$URL/api/display/art/grid?rows=2&cols=2"
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.slots[] | [.slot, .seq, .kind]]')" '[[0,4,"text"],[1,1,"text"],[2,2,"text"],[3,3,"text"]]'
	assert_equal "$(echo "$output" | jq -r .prompt)" '<script>alert(1)</script>'
	assert_equal "$(echo "$output" | jq -r .network)" art
	run curl -s "$URL/api/display/art/single?offset=1&stride=3"
	assert_equal "$(echo "$output" | jq -c '[.slots[] | .seq]')" '[4]'
	run curl -s "$URL/display/art/grid?rows=2&cols=2"
	assert_success
	assert_output --partial '<span class=prompt>&lt;script&gt;alert(1)&lt;/script&gt;</span>'
	assert_output --partial 'DUMMY_TEXT: &lt;script&gt;alert(1)&lt;/script&gt;'
	refute_output --partial '<script>alert'
	assert_output --partial 'class="display grid rows-2 cols-2"'
	run curl -s -D - -o /dev/null "$URL/display/art/grid"
	assert_output --partial "Content-Security-Policy: default-src 'self'"
	assert_output --partial 'Content-Type: text/html; charset=utf-8'
}

@test "bad display arguments get one-line errors; unknown networks and pages 404" {
	panic-net create art dummy-t2t > /dev/null
	start_web
	run api "$URL/api/display/art/grid?rows=0"
	assert_output '{"error":"rows: expected an integer from 1 to 16, got '"'0'"'"} 400'
	run api "$URL/api/display/art/grid?cols=x1"
	assert_output '{"error":"cols: expected an integer from 1 to 16, got '"'x1'"'"} 400'
	run api "$URL/api/display/art/single?offset=3&stride=3"
	assert_output --partial '400'
	run api "$URL/api/display/art/single?show_invoking=2"
	assert_output '{"error":"show_invoking: expected an integer from 0 to 1, got '"'2'"'"} 400'
	run api "$URL/api/display/nope/grid"
	assert_output '{"error":"no network '"'nope'"'"} 404'
	run api "$URL/api/display/art/spiral"
	assert_output '{"error":"no display '"'spiral'"' (grid or single)"} 404'
	assert_equal "$(code "$URL/display/art/grid/events")" 404
	assert_equal "$(code "$URL/no/such/page")" 404
	assert_equal "$(code -X PUT "$URL/networks")" 405
	run curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/"
	assert_output "303 $URL/networks"
	# the page escapes what it echoes
	run curl -s "$URL/display/%3Cb%3E/grid"
	assert_output --partial "no network &#39;&lt;b&gt;&#39;"
}

@test "the networks API: panic-net's records with panic-loop's status" {
	panic-net create art dummy-t2t -l 30 -d 'a <b>test</b>' > /dev/null
	panic-net create zen dummy-t2t > /dev/null
	start_web
	run curl -s "$URL/api/networks"
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.[] | {name, lockout_seconds, description, status}]')" \
		'[{"name":"art","lockout_seconds":30,"description":"a <b>test</b>","status":{"network":"art","state":"not running"}},{"name":"zen","lockout_seconds":30,"description":null,"status":{"network":"zen","state":"not running"}}]'
	assert_equal "$(curl -s "$URL/api/networks/art" | jq -c 'del(.status)')" "$(panic-net show art --json 2>/dev/null || panic-net show art)"
	run api "$URL/api/networks/nope"
	assert_output '{"error":"no network '"'nope'"'"} 404'
	# a runner: its status as panic-loop --status gives it
	panic-loop art --pace 60 < /dev/null > "$T/loop.out" &
	wait_for sh -c "panic-loop --status art | grep -q idle"
	assert_equal "$(curl -s "$URL/api/networks/art" | jq -c '.status | {network, state}')" '{"network":"art","state":"idle"}'
	run curl -s "$URL/networks"
	assert_output --partial '<td class=name>art</td>'
	assert_output --partial '<span class="status idle">idle</span>'
	assert_output --partial '<span class="status not running">not running</span>'
}

@test "the networks page's statuses are live: each network's status, then its changes as its runner goes" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	panic-net create zen dummy-t2t > /dev/null
	start_web
	run curl -s "$URL/networks"
	assert_output --partial '<tr data-network="art"><td class=name>art</td>'
	assert_output --partial '<td class=state><span class="status not running">not running</span>'
	assert_output --partial '<script src=/static/networks.js defer></script>'
	assert_equal "$(curl -s -o /dev/null -w '%{http_code}' "$URL/static/networks.js")" 200
	curl -s -N "$URL/api/events/networks" > "$T/sse" &
	wait_for grep -q '"network":"zen"' "$T/sse"
	# first each network as it is
	assert_equal "$(grep '^data: ' "$T/sse" | cut -c7- | jq -sc 'map([.network, .status.state]) | sort')" '[["art","not running"],["zen","not running"]]'
	assert_equal "$(grep -c '^event: status' "$T/sse")" 2
	# then each change of art's runner: waiting for its next invocation, stopped
	echo hi | panic-loop art --pace 1 --max 2 > /dev/null
	wait_for grep -q '"state":"waiting"' "$T/sse"
	assert_equal "$(grep '^data: ' "$T/sse" | cut -c7- | jq -c 'select(.status.state == "waiting") | [.network, .status.seq, .status.next_in_ms > 0]' | head -n 1)" '["art",1,true]'
	wait_for sh -c "tail -n 2 '$T/sse' | grep -q '\"art\",\"status\":{\"network\":\"art\",\"state\":\"not running\"'"
	# zen's runner did nothing: nothing more about zen
	assert_equal "$(grep -c '"network":"zen"' "$T/sse")" 1
	# a runner that was there before the page and dies without a word
	panic-loop zen --pace 60 < /dev/null > /dev/null &
	pid=$!
	wait_for sh -c "panic-loop --status zen | grep -q idle"
	curl -s -N "$URL/api/events/networks" > "$T/sse2" &
	wait_for grep -q '"network":"zen","status":{"pid":'"$pid"',"network":"zen","state":"idle"' "$T/sse2"
	kill -9 "$pid"
	wait_for grep -q '"network":"zen","status":{"network":"zen","state":"not running"' "$T/sse2"
}

@test "the prompt box starts a run through the runner; refused in the lockout, as the runner refuses" {
	panic-net create art dummy-t2t -l 600 > /dev/null
	start_web
	tok=$(csrf)
	# no runner yet
	run api -H "X-CSRF-Token: $tok" -d '{"input":"hi"}' "$URL/api/networks/art/prompt"
	assert_output '{"error":"network '"'art'"' has no runner (start one: panic-loop art)"} 503'
	panic-loop art --pace 60 < /dev/null > "$T/loop.out" &
	wait_for sh -c "panic-loop --status art | grep -q idle"
	run api -H "X-CSRF-Token: $tok" -d '{"input":"a <i>cat</i>"}' "$URL/api/networks/art/prompt"
	assert_output '{"type":"prompt","network":"art","input":"a <i>cat</i>"} 202'
	wait_for sh -c "[ \"\$(sqlite3 '$PANIC_DB' 'SELECT prompt FROM runs')\" = 'a <i>cat</i>' ]"
	wait_for sh -c "panic-loop --status art | grep -q in_lockout"
	run api -H "X-CSRF-Token: $tok" -d '{"input":"again"}' "$URL/api/networks/art/prompt"
	assert_output --regexp '^\{"type":"lockout","network":"art","run_id":"[0-9a-f-]{36}","prompt":"again","seconds_left":(600|599|598)\} 409$'
	assert_equal "$(sql 'SELECT count(*) FROM runs')" 1
	# the form: a refusal shown on the page, escaped
	run api --data-urlencode "csrf=$tok" --data-urlencode 'prompt=<b>x</b>' "$URL/networks/art/prompt"
	assert_output --partial "refused: network &#39;art&#39; is in its lockout"
	assert_output --regexp ' 409$'
	# bad input
	run api -H "X-CSRF-Token: $tok" -d '{"input":' "$URL/api/networks/art/prompt"
	assert_output --regexp '^\{"error":"the body is not JSON: .*"\} 400$'
	run api -H "X-CSRF-Token: $tok" -d '{"input":7}' "$URL/api/networks/art/prompt"
	assert_output '{"error":"no prompt (\"input\" as a string)"} 400'
	run api -H "X-CSRF-Token: $tok" -d '{"input":""}' "$URL/api/networks/art/prompt"
	assert_output '{"error":"the prompt is empty"} 400'
	printf '{"input":"a\0b"}' > "$T/nul"
	run api -H "X-CSRF-Token: $tok" --data-binary @"$T/nul" "$URL/api/networks/art/prompt"
	assert_output '{"error":"the body holds a NUL byte"} 400'
	run api -H "X-CSRF-Token: $tok" -d '{"input":"x"}' "$URL/api/networks/nope/prompt"
	assert_output '{"error":"no network '"'nope'"'"} 404'
	assert_equal "$(sql 'SELECT count(*) FROM runs')" 1
}

@test "a POST without the CSRF token, with a wrong one or from another origin is refused" {
	panic-net create art dummy-t2t > /dev/null
	start_web
	tok=$(csrf)
	[ ${#tok} = 64 ]
	run api -d '{"input":"x"}' "$URL/api/networks/art/prompt"
	assert_output '{"error":"forbidden: the form'"'"'s CSRF token is missing or stale (reload the page)"} 403'
	run api -H 'X-CSRF-Token: 00' -d '{"input":"x"}' "$URL/api/networks/art/prompt"
	assert_output --regexp ' 403$'
	run api -H "X-CSRF-Token: $tok" -H 'Origin: http://evil.example' -d '{"input":"x"}' "$URL/api/networks/art/prompt"
	assert_output '{"error":"forbidden: the request'"'"'s origin '"'"'http://evil.example'"'"' is not this server"} 403'
	run api -H 'Origin: http://evil.example' --data-urlencode "csrf=$tok" --data-urlencode prompt=x "$URL/networks/art/prompt"
	assert_output --partial '<p class=error>forbidden: the request&#39;s origin &#39;http://evil.example&#39; is not this server</p>'
	assert_output --partial ' 403'
	run api -H "X-CSRF-Token: $tok" -H 'Origin: null' -d '{"input":"x"}' "$URL/api/networks/art/prompt"
	assert_output '{"error":"forbidden: the request'"'"'s origin '"'"'null'"'"' is not this server"} 403'
	# this server's own origin passes
	run api -o /dev/null -H "X-CSRF-Token: $tok" -H "Origin: $URL" -d '{"input":"x"}' "$URL/api/networks/art/prompt"
	refute_output ' 403'
	assert_equal "$(code --data-urlencode csrf=nope --data-urlencode prompt=x "$URL/networks/art/prompt")" 403
	# the page's form carries the token
	run curl -s "$URL/networks"
	assert_output --partial "<input type=hidden name=csrf value=\"$tok\">"
	# a new server start: old tokens are stale
	kill "$WEB_PID"; wait "$WEB_PID" || true
	start_web
	assert_equal "$(code -H "X-CSRF-Token: $tok" -d '{"input":"x"}' "$URL/api/networks/art/prompt")" 403
}

@test "the token: required of every request when set; a public address needs one" {
	panic-net create art dummy-t2t > /dev/null
	run panic-web --listen 0.0.0.0:0
	assert_failure 3
	assert_output "panic-web: listening on 0.0.0.0:0 needs a token: set PANIC_WEB_TOKEN in the environment or the keys file"
	run panic-web --listen '[::]:0'
	assert_failure 3
	PANIC_WEB_TOKEN=short run panic-web --listen 127.0.0.1:0
	assert_failure 3
	assert_output "panic-web: PANIC_WEB_TOKEN is too short (16 characters at least)"
	run panic-web --listen nowhere:80
	assert_failure 2
	assert_output --partial "'nowhere' is not a numeric IPv4 or IPv6 address"
	run panic-web --listen 127.0.0.1:99999
	assert_failure 2
	# from the keys file (0600), on a public address
	mkdir -p "$XDG_CONFIG_HOME/panic"
	echo 'PANIC_WEB_TOKEN=0123456789abcdef0123' > "$XDG_CONFIG_HOME/panic/keys"
	chmod 600 "$XDG_CONFIG_HOME/panic/keys"
	panic-web --listen 0.0.0.0:0 2> "$T/web.err" &
	WEB_PID=$!
	wait_for grep -q 'listening on' "$T/web.err"
	URL=$(grep -o 'http://[^ ]*' "$T/web.err" | sed 's/0\.0\.0\.0/127.0.0.1/')
	assert_equal "$(code "$URL/api/networks")" 401
	assert_equal "$(code "$URL/static/panic.css")" 401
	assert_equal "$(code "$URL/display/art/grid")" 401
	assert_equal "$(code -H 'Authorization: Bearer 0123456789abcdef0124' "$URL/api/networks")" 401
	assert_equal "$(code -H 'Authorization: Bearer 0123456789abcdef0123' "$URL/api/networks")" 200
	assert_equal "$(code "$URL/api/networks?token=0123456789abcdef012")" 401
	run curl -s -D - -o /dev/null "$URL/display/art/grid?token=0123456789abcdef0123"
	assert_output --partial 'HTTP/1.1 200'
	assert_output --partial 'Set-Cookie: panic_token=0123456789abcdef0123; Path=/; HttpOnly; SameSite=Strict'
	assert_equal "$(code -b 'panic_token=0123456789abcdef0123' "$URL/api/networks")" 200
	# no page shows it
	run curl -s -b 'panic_token=0123456789abcdef0123' "$URL/networks"
	refute_output --partial 0123456789abcdef0123
	# a keys file others can read is refused
	kill "$WEB_PID"
	chmod 644 "$XDG_CONFIG_HOME/panic/keys"
	run panic-web --listen 0.0.0.0:0
	assert_failure 3
	assert_output --partial 'keys'
}

@test "static files: from the root, else built in; no traversal, NUL, bad UTF-8, hidden files or symlinks out" {
	mkdir -p "$T/root/sub"
	echo 'body { color: red }' > "$T/root/panic.css"
	echo secret > "$T/secret.txt"
	echo hidden > "$T/root/.hidden.txt"
	echo inside > "$T/root/sub/in.txt"
	ln -s "$T/secret.txt" "$T/root/out.txt"
	ln -s sub/in.txt "$T/root/link.txt"
	start_web --root "$T/root"
	assert_equal "$(curl -s "$URL/static/panic.css")" 'body { color: red }'
	assert_equal "$(curl -s "$URL/static/sub/in.txt")" inside
	assert_equal "$(curl -s "$URL/static/link.txt")" inside
	# what the root lacks is built in
	run curl -s "$URL/static/display.js"
	assert_output --partial 'EventSource'
	assert_equal "$(curl -s -o /dev/null -w '%{content_type}' "$URL/static/display.js")" 'text/javascript; charset=utf-8'
	for p in out.txt .hidden.txt ..%2fsecret.txt %2e%2e/secret.txt %2E%2E%2Fsecret.txt sub/..%2f..%2fsecret.txt \
		sub/../../secret.txt 'sub%5c..%5c..%5csecret.txt' sub//in.txt nope.txt; do
		run curl -s --path-as-is "$URL/static/$p"
		refute_output --partial secret
		assert_equal "$(code --path-as-is "$URL/static/$p")" 404
	done
	assert_equal "$(code --path-as-is "$URL/static/panic.css%00.png")" 400
	assert_equal "$(code --path-as-is "$URL/static/%ff%fe")" 400
	assert_equal "$(code --path-as-is "$URL/api/display/art/grid?rows=%00")" 400
	assert_equal "$(code --path-as-is "$URL/api/display/art/grid?rows=%c0%af")" 400
	run curl -s "$URL/static/panic.css%00.png"
	assert_output --partial '<p class=error>bad request: the URL holds a NUL or invalid UTF-8</p>'
	run api "$URL/api/display/art/grid?rows=%00"
	assert_output '{"error":"bad request: a query argument holds a NUL or invalid UTF-8"} 400'
}

@test "huge headers, huge bodies and junk requests are refused; the server goes on" {
	panic-net create art dummy-t2t > /dev/null
	start_web
	big=$(head -c 70000 /dev/zero | tr '\0' a)
	assert_equal "$(code -H "X-Big: $big" "$URL/api/networks")" 431
	head -c 1100000 /dev/zero | tr '\0' a > "$T/body"
	assert_equal "$(code -H "X-CSRF-Token: $(csrf)" --data-binary @"$T/body" "$URL/api/networks/art/prompt")" 413
	printf 'GARBAGE\r\n\r\n' | timeout 5 curl -s telnet://127.0.0.1:${URL##*:} > /dev/null || true
	printf 'GET /%s HTTP/1.1\r\nHost: x\r\n\r\n' "$(head -c 100 /dev/urandom | base64 -w0 | tr -d '/+=')" |
		timeout 5 curl -s telnet://127.0.0.1:${URL##*:} > /dev/null || true
	assert_equal "$(code "$URL/api/networks")" 200
}

@test "the live stream: the display first, then each changed slot as the runner goes" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	echo first | panic-loop art --pace 0 --max 2 > /dev/null
	start_web
	curl -s -N "$URL/api/display/art/grid/events?rows=1&cols=2" > "$T/sse" &
	wait_for grep -q '^event: slots' "$T/sse"
	first=$(grep -m1 '^data: ' "$T/sse" | cut -c7-)
	assert_equal "$(echo "$first" | jq -c '[.prompt, [.slots[].seq]]')" '["first",[0,1]]'
	echo second | panic-loop art --pace 0 --max 3 > /dev/null
	wait_for grep -q '"seq":2,.*"state":"completed"' "$T/sse"
	# a newer run: the whole display again, then slot by slot, never backwards
	run grep -c '^event: slots' "$T/sse"
	assert_output 2
	assert_equal "$(grep '^data: ' "$T/sse" | sed -n 2p | cut -c7- | jq -c '[.prompt, [.slots[].kind]]')" '["second",["ready","empty"]]'
	assert_equal "$(grep '^data: ' "$T/sse" | tail -n 1 | cut -c7- | jq -c '[.slot, .seq, .state]')" '[0,2,"completed"]'
	assert_equal "$(grep -c '^id: ' "$T/sse")" "$(grep -c '^data: ' "$T/sse")"
}

@test "Last-Event-ID: a screen that reconnects catches up, or gets nothing again if it missed nothing" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	echo first | panic-loop art --pace 0 --max 2 > /dev/null
	start_web
	timeout 1 curl -s -N "$URL/api/display/art/grid/events?rows=1&cols=2" > "$T/a" || true
	last=$(grep '^id: ' "$T/a" | tail -n 1 | cut -c5-)
	[ -n "$last" ]
	timeout 1 curl -s -N -H "Last-Event-ID: $last" "$URL/api/display/art/grid/events?rows=1&cols=2" > "$T/b" || true
	run grep -c '^data: ' "$T/b"
	assert_output 0
	# it missed a run: the display as it is now
	echo missed | panic-loop art --pace 0 --max 1 > /dev/null
	timeout 1 curl -s -N -H "Last-Event-ID: $last" "$URL/api/display/art/grid/events?rows=1&cols=2" > "$T/c" || true
	assert_equal "$(grep -m1 '^data: ' "$T/c" | cut -c7- | jq -c '[.prompt, [.slots[].seq]]')" '["missed",[0,null]]'
	# an id from an earlier start of the server: caught up too
	timeout 1 curl -s -N -H "Last-Event-ID: 00000000-1" "$URL/api/display/art/grid/events?rows=1&cols=2" > "$T/d" || true
	assert_equal "$(grep -m1 '^data: ' "$T/d" | cut -c7- | jq -c .prompt)" '"missed"'
}

@test "a client that goes away mid-stream is let go; the server stops cleanly with streams open" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	start_web --ping 0.2
	curl -s -N "$URL/api/display/art/grid/events" > "$T/a" &
	gone=$!
	curl -s -N "$URL/api/display/art/single/events" > "$T/b" &
	wait_for sh -c "curl -s '$URL/api/status' | grep -q '\"streams\":2'"
	kill "$gone"
	wait_for sh -c "curl -s '$URL/api/status' | grep -q '\"streams\":1'"
	echo go | panic-loop art --pace 0 --max 2 > /dev/null
	wait_for grep -q '"seq":1' "$T/b"
	assert_equal "$(code "$URL/api/networks")" 200
	kill -TERM "$WEB_PID"
	rc=0
	wait "$WEB_PID" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(cat "$T/web.err")" "panic-web: listening on $URL"
}

@test "address binding: loopback (IPv4, IPv6) needs no token and binds only there" {
	panic-web --listen '[::1]:0' 2> "$T/web6.err" &
	p6=$!
	wait_for grep -q 'listening on' "$T/web6.err"
	u6=$(grep -o 'http://[^ ]*' "$T/web6.err")
	[[ $u6 == 'http://[::1]:'* ]]
	assert_equal "$(curl -s -g -o /dev/null -w '%{http_code}' "$u6/api/status")" 200
	start_web
	port=${URL##*:}
	run ss -ltnH "sport = :$port"
	assert_output --partial "127.0.0.1:$port"
	refute_output --partial "0.0.0.0:$port"
	run ss -ltnH "sport = :${u6##*:}"
	assert_output --partial "[::1]:${u6##*:}"
	kill "$p6"
}

@test "the new-agent form saves as served: retry_policy shows agent-ctl's default; empty means the default" {
	start_web
	run curl -s "$URL/agents/new"
	assert_output --partial '{&quot;type&quot;:&quot;fixed&quot;,&quot;max_retries&quot;:3,&quot;delay_ms&quot;:5000}</textarea>'
	rp=$(printf '%s' "$output" | sed -n 's/.*name=retry_policy[^>]*>\([^<]*\)<.*/\1/p' | sed 's/&quot;/"/g')
	assert_equal "$rp" '{"type":"fixed","max_retries":3,"delay_ms":5000}'
	t=$(csrf)
	run api -o /dev/null --data-urlencode "csrf=$t" -d name=webby -d status=inactive -d abilities=echo \
		-d responsibilities=every:1h -d 'llm_config={}' -d 'prompts={}' --data-urlencode "retry_policy=$rp" \
		-d concurrency= "$URL/agents/new"
	assert_output ' 303'
	run api -o /dev/null --data-urlencode "csrf=$t" -d name=webby2 -d status=inactive -d abilities=echo \
		-d responsibilities=every:1h -d 'llm_config={}' -d 'prompts={}' -d retry_policy= \
		-d concurrency= "$URL/agents/new"
	assert_output ' 303'
	for a in webby webby2; do
		run curl -s "$URL/api/agents/$a"
		assert_equal "$(echo "$output" | jq -c .retry_policy)" '{"type":"fixed","max_retries":3,"delay_ms":5000}'
	done
}

@test "a run started by a typed pipeline has no answer form; resuming it from the web is a 409, nothing stored" {
	echo '{"amount":5000}' | syn-step spend --jq 'if .human_input == null then {_suspend: {message: "Spend?", schema: {ok: "boolean"}}} else {ok: .human_input.ok} end' | syn-step pay --jq '{paid: .ok}'
	id=$(syn-run ls --json | jq -r 'select(.status == "waiting_for_human") | .id')
	[ -n "$id" ]
	start_web
	run curl -s "$URL/runs"
	assert_output --partial "<pre class=resume><code>syn-run resume --print $id &#39;JSON&#39; | PIPELINE</code></pre>"
	refute_output --partial "action=\"/runs/$id/resume\""
	msg="run $id was started by a pipeline typed on the command line: resume it there with syn-run resume --print RUN JSON | PIPELINE"
	run post "/api/runs/$id/resume" '{"ok":true}'
	assert_output "{\"error\":\"$msg\"} 409"
	run api -o /dev/null -d "csrf=$(csrf)" -d step=spend -d f.ok=true "$URL/runs/$id/resume"
	assert_output ' 409'
	run syn-run inspect "$id" --json
	assert_equal "$(echo "$output" | jq -c '[.status, .current_step, .context]')" '["waiting_for_human","spend",{"amount":5000}]'
	assert_equal "$(syn-run history "$id" | jq -sc 'map(.event)')" '["started","waiting_for_human"]'
}

@test "every error under /api/ is JSON, every other one a short HTML page, with the same status codes" {
	agent-ctl add webby > /dev/null
	PANIC_WEB_TOKEN=0123456789abcdef0123 start_web
	auth=(-H 'Authorization: Bearer 0123456789abcdef0123')
	run api -D "$T/h" "$URL/api/networks"
	assert_output '{"error":"unauthorized: this server needs its token"} 401'
	run grep -ci '^content-type: application/json' "$T/h"
	assert_output 1
	run grep -ci '^www-authenticate: Bearer' "$T/h"
	assert_output 1
	run api "$URL/networks"
	assert_output --partial '<p class=error>unauthorized: this server needs its token</p>'
	assert_output --partial ' 401'
	run api -D "$T/h" "${auth[@]}" "$URL/api/nosuch"
	assert_output '{"error":"not found"} 404'
	run grep -ci '^content-type: application/json' "$T/h"
	assert_output 1
	run api -D "$T/h" "${auth[@]}" -X DELETE "$URL/api/agents/webby"
	assert_output '{"error":"method not allowed: /api/agents/webby takes GET, HEAD, POST"} 405'
	run grep -i '^allow:' "$T/h"
	assert_output $'Allow: GET, HEAD, POST\r'
	run api -D "$T/h" "${auth[@]}" "$URL/nosuch%3Cb%3E"
	assert_output --partial '<p class=error>not found</p>'
	assert_output --partial ' 404'
	run grep -ci '^content-type: text/html; charset=utf-8' "$T/h"
	assert_output 1
	run api "${auth[@]}" -X PUT "$URL/networks"
	assert_output --partial '<p class=error>method not allowed: /networks takes GET, HEAD</p>'
	assert_output --partial ' 405'
	run api "${auth[@]}" "$URL/api/bad%00"
	assert_output --partial ' 400'
}

@test "a GET on a POST-only route is 405 with Allow: POST, and a POST on a GET-only one 405 with Allow: GET, HEAD" {
	agent-ctl add webby > /dev/null
	panic-net create art dummy-t2t > /dev/null
	start_web
	for p in /api/agents/webby/activate /agents/webby/deactivate /api/runs/01a20000-0000-7000-8000-000000000000/resume \
		/runs/01a20000-0000-7000-8000-000000000000/resume /api/networks/art/prompt /networks/art/prompt; do
		run api -D "$T/h" "$URL$p"
		assert_output --partial ' 405'
		assert_output --partial "method not allowed: $p takes POST"
		run grep -i '^allow:' "$T/h"
		assert_output $'Allow: POST\r'
	done
	run api -D "$T/h" -X POST -H "X-CSRF-Token: $(csrf)" "$URL/api/status"
	assert_output '{"error":"method not allowed: /api/status takes GET, HEAD"} 405'
	run grep -i '^allow:' "$T/h"
	assert_output $'Allow: GET, HEAD\r'
	# what exists still answers
	run api -o /dev/null "$URL/api/agents/webby"
	assert_output ' 200'
	run api "$URL/api/agents/webby/nope"
	assert_output '{"error":"not found"} 404'
}

@test "--root that is not a directory: one warning, then the built-in pages" {
	start_web --root /no/such/dir
	run grep -c 'serving the built-in pages' "$T/web.err"
	assert_output 1
	run grep -v 'listening on' "$T/web.err"
	assert_output 'panic-web: --root /no/such/dir: No such file or directory: serving the built-in pages'
	assert_equal "$(code "$URL/static/panic.css")" 200
	kill "$WEB_PID"; wait "$WEB_PID" || true
	touch "$T/file"
	start_web --root "$T/file"
	run grep -v 'listening on' "$T/web.err"
	assert_output "panic-web: --root $T/file: Not a directory: serving the built-in pages"
	kill "$WEB_PID"; wait "$WEB_PID" || true
	mkdir "$T/root"
	start_web --root "$T/root"
	run grep -v 'listening on' "$T/web.err"
	assert_output ''
}
