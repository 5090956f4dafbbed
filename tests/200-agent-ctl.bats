#!/usr/bin/env bats
# agent-ctl: the agents table. Every field checked on the way in (exit 3,
# the error naming the field and the rule), every change published on
# agents:changed, import/export round-tripping exactly, edit like
# crontab -e, the allow-list of abilities, hostile names.

bats_require_minimum_version 1.5.0
load helper

fifos() { ls "$PANIC_BUS" 2>/dev/null | grep -c '^sub\.' || true; }
more_fifos() { [ "$(fifos)" -gt "$1" ]; }
# sub_bg OUT PATTERN...: a subscriber in the background, ready on return
sub_bg() {
	local out=$1 before
	shift
	before=$(fifos)
	panic-bus sub "$@" > "$out" &
	wait_for more_fifos "$before"
}

# ability NAME BODY: an executable ability in the user's allow-list
ability() {
	mkdir -p "$XDG_CONFIG_HOME/panic/abilities"
	printf '#!/bin/sh\n%s\n' "$2" > "$XDG_CONFIG_HOME/panic/abilities/$1"
	chmod 755 "$XDG_CONFIG_HOME/panic/abilities/$1"
}

@test "add: the defaults of Arboretum's table, and show, list as NDJSON off a terminal" {
	run agent-ctl add scout
	assert_success
	run agent-ctl show scout
	assert_success
	assert_equal "$(echo "$output" | jq -c 'del(.id, .inserted_at, .updated_at)')" \
		'{"name":"scout","status":"inactive","llm_config":{},"prompts":{},"abilities":[],"responsibilities":[],"retry_policy":{"type":"fixed","max_retries":3,"delay_ms":5000},"concurrency":null,"last_error":null}'
	assert_equal "$(echo "$output" | jq -r '.id' | grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')" 1
	assert_equal "$(echo "$output" | jq -r '.inserted_at == .updated_at')" true
	agent-ctl add writer -a echo -r 'cron:0 9 * * mon-fri' -r 'event:docs:*' --status active \
		--model dummy-t2t --key-env WRITER_KEY --system 'Be brief.' -p 'docs:*=Summarise {{input}}' \
		--retry exponential_backoff:5:1000:60000 --concurrency 2 > /dev/null
	run agent-ctl list
	assert_equal "$(echo "$output" | jq -r .name | paste -sd' ')" "scout writer"
	assert_equal "$(agent-ctl show writer | jq -c '[.status, .llm_config, .prompts, .abilities, .responsibilities, .retry_policy, .concurrency]')" \
		'["active",{"model":"dummy-t2t","api_key_env_var":"WRITER_KEY","base_prompt_override":"Be brief."},{"docs:*":"Summarise {{input}}"},["echo"],["cron:0 9 * * mon-fri","event:docs:*"],{"type":"exponential_backoff","max_retries":5,"base_delay_ms":1000,"max_delay_ms":60000},2]'
	# the row itself
	assert_equal "$(sql "select name, status, abilities, retry_policy, concurrency from agents where name = 'writer'")" \
		'writer|active|["echo"]|{"type":"exponential_backoff","max_retries":5,"base_delay_ms":1000,"max_delay_ms":60000}|2'
	# concurrency: set, moved back to agent-run's default; a word is a usage error
	agent-ctl set writer -j 8 > /dev/null
	assert_equal "$(sql "select concurrency from agents where name = 'writer'")" 8
	agent-ctl set writer --concurrency default > /dev/null
	assert_equal "$(agent-ctl show writer | jq -c .concurrency)" null
	assert_equal "$(sql "select concurrency is null from agents where name = 'writer'")" 1
	run --separate-stderr agent-ctl set writer --concurrency lots
	assert_failure 2
	assert_equal "$(echo "$stderr" | head -1)" "agent-ctl: --concurrency: 'lots' is not a number (or 'default')"
}

@test "names are unique whatever their case, and name checks" {
	agent-ctl add Scout > /dev/null
	run --separate-stderr agent-ctl add SCOUT
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: agent 'SCOUT' already exists"
	run agent-ctl show scout
	assert_success
	assert_equal "$(echo "$output" | jq -r .name)" Scout
	for bad in ../x .hidden -dash 'a b' "$(printf 'a%.0s' {1..65})"; do
		run --separate-stderr agent-ctl add -- "$bad"
		assert_failure 3
		[[ $stderr == "agent-ctl: name: '"*"' is not a name (1 to 64 of A-Z a-z 0-9 . _ -, not starting with . or -)" ]]
	done
	assert_equal "$(sql 'select count(*) from agents')" 1
}

@test "every field checked, the error naming the field and the rule, nothing stored" {
	ability sum 'cat'
	while IFS='|' read -r args why; do
		eval "run --separate-stderr agent-ctl add bad $args"
		assert_failure 3
		assert_equal "$stderr" "agent-ctl: $why"
	done <<'EOF2'
--status sleeping|status: must be active, inactive, error or disabled_flapping
-r 'cron:61 * * * *'|responsibilities[0]: cron '61 * * * *': minute: 61 is out of range 0-59
-r 'cron:* * *'|responsibilities[0]: cron '* * *': 3 fields (5: minute hour day-of-month month day-of-week)
-r 'cron:*/0 * * * *'|responsibilities[0]: cron '*/0 * * * *': minute: '*/0': a step of 0
-r 'cron:@never'|responsibilities[0]: cron '@never': '@never': unknown (@reboot @yearly @annually @monthly @weekly @daily @midnight @hourly)
-r 'cron:0 0 31 2 *'|responsibilities[0]: cron '0 0 31 2 *': never fires: no month it names has the day-of-month it names
-r every:0s|responsibilities[0]: every: '0s': at least 1s
-r every:soon|responsibilities[0]: every: 'soon' is not a duration (such as 500ms, 30s, 5m, 1h, 1h30m)
-r 'event:a b'|responsibilities[0]: event: white space or control character in topic 'a b'
-r watch:relative/dir|responsibilities[0]: watch: 'relative/dir' is not an absolute directory path
-r sometimes|responsibilities[0]: 'sometimes': not a trigger (cron:EXPR, every:DURATION, event:TOPIC, watch:/DIR[:GLOB] or stdin)
-r '{"trigger":"every:1m","when":1}'|responsibilities[0]: unknown field 'when' (trigger, name, task, abilities, catch_up, tz, timeout)
-r '{"trigger":"every:1m","tz":"Europe/Paris"}'|responsibilities[0]: tz: for cron only
-r '{"trigger":"cron:0 9 * * *","tz":"../../etc/passwd"}'|responsibilities[0]: tz: '../../etc/passwd' is not a time zone name (such as Europe/Paris)
-r '{"trigger":"cron:0 9 * * *","tz":"Mars/Olympus"}'|responsibilities[0]: tz: 'Mars/Olympus': no such time zone (see /usr/share/zoneinfo)
-a sum -r '{"trigger":"every:1m","abilities":["rm"]}'|responsibilities[0]: abilities[0]: not one of the agent's abilities
-r every:1m -r '{"trigger":"every:5m","name":"every:1m"}'|responsibilities[1]: the name 'every:1m' is taken by responsibilities[0]
--retry '{"type":"fixed","max_retries":3}'|retry_policy: fixed needs delay_ms
--retry '{"type":"exponential_backoff","max_retries":3,"base_delay_ms":10}'|retry_policy: exponential_backoff needs max_delay_ms
--retry '{"type":"sometimes","max_retries":3}'|retry_policy: type must be "fixed" or "exponential_backoff"
--retry fixed:-1:10|retry_policy: max_retries must be a whole number from 0 to 100
--retry '{"type":"fixed","max_retries":3,"delay_ms":5,"jitter":1}'|retry_policy: 'jitter': unknown field (type, max_retries, delay_ms)
--key-env sk-proj-abc123|llm_config.api_key_env_var: give the name of the environment variable that holds the key (such as OPENAI_API_KEY), never the key itself
--key-env r8_Abc123def456ghi789jkl012mno|llm_config.api_key_env_var: give the name of the environment variable that holds the key (such as OPENAI_API_KEY), never the key itself
--model no-such-model|llm_config.model: unknown model 'no-such-model' (see panic-invoke --list)
--base-url ftp://example.org|llm_config.base_url: 'ftp://example.org' is not an http:// or https:// URL
--fields '{"llm_config":{"model":"dummy-t2t","temprature":1}}'|llm_config: 'temprature': unknown field (api_key_env_var, model, base_url, base_prompt_override, temperature, max_tokens)
--fields '{"prompts":{"x":1}}'|prompts.x: not a template string
--fields '{"colour":"red"}'|'colour': unknown field (id, name, status, llm_config, prompts, abilities, responsibilities, retry_policy, concurrency, last_error, inserted_at, updated_at)
-a llm|abilities[0]: llm needs llm_config.model
--concurrency 0|concurrency: a whole number from 1 to 256 (jobs of the agent at once), or null for agent-run's --jobs
-j 257|concurrency: a whole number from 1 to 256 (jobs of the agent at once), or null for agent-run's --jobs
--fields '{"concurrency":2.5}'|concurrency: a whole number from 1 to 256 (jobs of the agent at once), or null for agent-run's --jobs
--fields '{"concurrency":"4"}'|concurrency: a whole number from 1 to 256 (jobs of the agent at once), or null for agent-run's --jobs
-a echo -a echo|abilities[1]: 'echo' twice
EOF2
	run --separate-stderr agent-ctl add bad -a nope
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: abilities[0]: no ability 'nope' (built in: echo, llm; searched $XDG_CONFIG_HOME/panic/abilities, $(cd "$PANIC_BIN/.." && pwd)/share/panic/abilities)"
	assert_equal "$(sql 'select count(*) from agents')" 0
}

@test "every field's error at once, for a form: the first is agent-ctl's, each names its field" {
	ability ok 'cat'
	cat > cases <<'EOF'
{"name":"fine","abilities":["echo","ok"],"responsibilities":["cron:0 9 * * *"]}
{"name":"-bad","status":"on","abilities":["echo","nope"],"responsibilities":["cron:61 * * * *","every:soon"],"retry_policy":{"type":"x"},"concurrency":0,"colour":"red"}
{"name":"a","abilities":["llm"]}
{"name":"x","prompts":{"t":5},"llm_config":{"api_key_env_var":"sk-abcdef"},"responsibilities":["every:soon"]}
[1]
EOF
	run "$PANIC_BIN/../unit/agentcheck" < cases
	assert_success
	assert_equal "$(jq -c '[.errors[].field]' <<<"$output")" '[]
["colour","name","status","concurrency","abilities","responsibilities","retry_policy"]
["abilities"]
["llm_config","prompts","responsibilities"]
[null]'
	local want=$output
	assert_equal "$(sed -n 2p <<<"$want" | jq -r '.errors[4, 5].message')" \
		"abilities[1]: no ability 'nope' (built in: echo, llm; searched $XDG_CONFIG_HOME/panic/abilities, $(cd "$PANIC_BIN/.." && pwd)/share/panic/abilities)
responsibilities[0]: cron '61 * * * *': minute: 61 is out of range 0-59"
	# the first error of each is the one agent-ctl gives, and nothing is stored
	local c
	for c in 2 3 4; do
		sed -n "${c}p" cases > one
		run --separate-stderr agent-ctl import one
		assert_failure 1
		assert_equal "$stderr" "agent-ctl: one:1: $(sed -n "${c}p" <<<"$want" | jq -r '.errors[0].message')"
	done
	assert_equal "$(agent-ctl list)" ''
}

@test "abilities: only from the allow-list; hostile names, symlinks and open directories refused" {
	ability ok 'cat'
	run agent-ctl add a -a ok
	assert_success
	for bad in ../../bin/sh /bin/sh .hidden -rf 'a/b' '..' 'sum;rm'; do
		run --separate-stderr agent-ctl add b -a "$bad"
		assert_failure 3
		assert_equal "$stderr" "agent-ctl: abilities[0]: '$bad' is not an ability name (letters, digits, . _ -; no '/', not starting with '.' or '-')"
	done
	ln -s /bin/sh "$XDG_CONFIG_HOME/panic/abilities/shell"
	run --separate-stderr agent-ctl add b -a shell
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: abilities[0]: ability 'shell' in $XDG_CONFIG_HOME/panic/abilities: refused: a symlink (put the program itself, or a script that runs it, there)"
	printf '#!/bin/sh\n' > "$XDG_CONFIG_HOME/panic/abilities/plain"
	run --separate-stderr agent-ctl add b -a plain
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: abilities[0]: ability 'plain' in $XDG_CONFIG_HOME/panic/abilities: not executable (chmod +x)"
	chmod 757 "$XDG_CONFIG_HOME/panic/abilities/plain"
	run --separate-stderr agent-ctl add b -a plain
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: abilities[0]: ability 'plain' in $XDG_CONFIG_HOME/panic/abilities: refused: writable by others or not owned by you"
	chmod 777 "$XDG_CONFIG_HOME/panic/abilities"
	run --separate-stderr agent-ctl add b -a ok
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: abilities[0]: ability 'ok': refused: the directory $XDG_CONFIG_HOME/panic/abilities is writable by others or not owned by you"
	chmod 755 "$XDG_CONFIG_HOME/panic/abilities"
	mkdir -p extra && printf '#!/bin/sh\ncat\n' > extra/more && chmod 755 extra/more
	run agent-ctl add b -a more --abilities "$T/extra"
	assert_success
	assert_equal "$(sql 'select count(*) from agents')" 2
}

@test "set, activate, deactivate, remove; each change published on agents:changed" {
	sub_bg events -n 5 agents:changed
	pid=$!
	agent-ctl add bot -a echo > /dev/null
	agent-ctl set bot -r every:5m --system 'Terse.' > /dev/null
	agent-ctl activate bot
	agent-ctl deactivate bot
	agent-ctl remove bot
	wait "$pid"
	assert_equal "$(jq -r '.data.event + " " + .data.agent.status' events | paste -sd,)" \
		"created inactive,updated inactive,updated active,updated inactive,deleted inactive"
	assert_equal "$(jq -c 'select(.data.event == "updated") | .data.agent.responsibilities' events | head -1)" '["every:5m"]'
	assert_equal "$(jq -r '.topic' events | sort -u)" "agents:changed"
	assert_equal "$(sql 'select count(*) from agents')" 0
	run --separate-stderr agent-ctl remove bot
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: no agent 'bot' (see agent-ctl list)"
	run --separate-stderr agent-ctl set ghost --status active
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: no agent 'ghost' (see agent-ctl list)"
}

@test "set changes only what it is given; prompts merge, TASK= removes one" {
	agent-ctl add bot -a echo -r every:5m -p a=A -p b=B --model dummy-t2t --key-env K > /dev/null
	before=$(agent-ctl show bot)
	agent-ctl set bot -p b= -p c=C --base-url http://127.0.0.1:9/v1 > /dev/null
	after=$(agent-ctl show bot)
	assert_equal "$(echo "$after" | jq -c '[.prompts, .llm_config, .abilities, .responsibilities]')" \
		'[{"a":"A","c":"C"},{"model":"dummy-t2t","api_key_env_var":"K","base_url":"http://127.0.0.1:9/v1"},["echo"],["every:5m"]]'
	assert_equal "$(echo "$before" | jq -r .id)" "$(echo "$after" | jq -r .id)"
	assert_equal "$(echo "$before" | jq -r .inserted_at)" "$(echo "$after" | jq -r .inserted_at)"
	# a bad change leaves the agent as it was
	run agent-ctl set bot -r 'cron:0 25 * * *'
	assert_failure 3
	assert_equal "$(agent-ctl show bot)" "$after"
}

@test "export and import round-trip exactly; import replaces by name, reports bad lines" {
	ability sum 'cat'
	agent-ctl add one -a sum -a echo -r 'cron:15 4 * * *' -r '{"trigger":"event:jobs:*","name":"jobs","task":"summary","abilities":["sum"]}' \
		-p 'summary=Sum up {{.}}' --status active > /dev/null
	agent-ctl add two --model dummy-t2t -a llm -r stdin --retry fixed:0:0 > /dev/null
	sql "update agents set last_error = 'it broke' where name = 'two'"
	agent-ctl export > backup.ndjson
	assert_equal "$(wc -l < backup.ndjson)" 2
	mv "$PANIC_DB" old.db
	rm -f "$PANIC_DB"-*
	run agent-ctl import backup.ndjson
	assert_success
	agent-ctl export > again.ndjson
	cmp backup.ndjson again.ndjson
	# from stdin too, replacing by name: the same file changes nothing
	agent-ctl import < backup.ndjson
	agent-ctl export | cmp - backup.ndjson
	# bad lines: reported with their number, the rest imported, exit 1
	{
		echo '{"name":"three","status":"active"}'
		echo 'not json at all'
		echo '{"name":"four","status":"sleeping"}'
		echo '{"name":"five","abilities":["../../bin/sh"]}'
		echo '[1,2]'
		echo '{"name":"one","id":"01900000-0000-7000-8000-000000000000"}'
		echo '{"name":"six"}'
	} > mixed.ndjson
	run --separate-stderr agent-ctl import mixed.ndjson
	assert_failure 1
	assert_equal "$stderr" "agent-ctl: mixed.ndjson:2: invalid JSON: Invalid numeric literal at line 1, column 4
agent-ctl: mixed.ndjson:3: status: must be active, inactive, error or disabled_flapping
agent-ctl: mixed.ndjson:4: abilities[0]: '../../bin/sh' is not an ability name (letters, digits, . _ -; no '/', not starting with '.' or '-')
agent-ctl: mixed.ndjson:5: expected an object, got an array
agent-ctl: mixed.ndjson:6: agent 'one' exists with another id ($(jq -r 'select(.name=="one").id' backup.ndjson)): remove it first"
	assert_equal "$(agent-ctl list | jq -r .name | paste -sd' ')" "one six three two"
	run agent-ctl import missing.ndjson
	assert_failure 3
}

@test "edit: the editor's changes are checked on save; a bad edit reopens with the error" {
	agent-ctl add bot -a echo -r every:5m > /dev/null
	# an editor that changes the schedule
	cat > ed-good <<'SH'
#!/bin/sh
sed -i 's/every:5m/cron:0 9 * * *, "stdin/' "$1"
sed -i 's/"cron:0 9 \* \* \*, "stdin"/"cron:0 9 * * *", "stdin"/' "$1"
SH
	chmod +x ed-good
	EDITOR="$T/ed-good" run agent-ctl edit bot
	assert_success
	assert_equal "$(agent-ctl show bot | jq -c .responsibilities)" '["cron:0 9 * * *","stdin"]'
	# a bad edit, then "y", then a good one: the second run sees the error on top
	cat > ed-two <<'SH'
#!/bin/sh
n=$(cat "$0.count" 2>/dev/null || echo 0); echo $((n + 1)) > "$0.count"
if [ "$n" = 0 ]; then sed -i 's/"cron:0 [0-9]*/"cron:0 99/' "$1"; else
	grep '^// error: ' "$1" > "$0.seen"; sed -i 's/cron:0 99/cron:0 10/' "$1"; fi
SH
	chmod +x ed-two
	EDITOR="$T/ed-two" run --separate-stderr agent-ctl edit bot <<< y
	assert_success
	assert_equal "$(cat ed-two.count)" 2
	assert_equal "$(cat ed-two.seen)" "// error: responsibilities[0]: cron '0 99 * * *': hour: 99 is out of range 0-23"
	assert_equal "$(agent-ctl show bot | jq -c .responsibilities)" '["cron:0 10 * * *","stdin"]'
	# a bad edit and "n": nothing changes, exit 3
	rm ed-two.count
	EDITOR="$T/ed-two" run --separate-stderr agent-ctl edit bot <<< n
	assert_failure 3
	assert_equal "$(agent-ctl show bot | jq -c .responsibilities)" '["cron:0 10 * * *","stdin"]'
	# not JSON at all; no answer (end of input) is "n"
	cat > ed-junk <<'SH'
#!/bin/sh
echo '{ broken' > "$1"
SH
	chmod +x ed-junk
	VISUAL="$T/ed-junk" EDITOR=false run --separate-stderr agent-ctl edit bot < /dev/null
	assert_failure 3
	[[ ${stderr%%$'\n'*} == "agent-ctl: not JSON: "* ]]
	# the prompt unanswered, what follows is a line of its own
	[[ "$stderr" == *$'[y/n] \n'"agent-ctl: edit of agent 'bot' discarded"* ]] || fail "discarded on the prompt's line: $stderr"
	# no change; an editor that fails; $VISUAL before $EDITOR, with its arguments
	EDITOR=true run --separate-stderr agent-ctl edit bot
	assert_success
	assert_equal "$stderr" "agent-ctl: no changes made to agent 'bot'"
	EDITOR=false run --separate-stderr agent-ctl edit bot
	assert_failure 1
	assert_equal "$stderr" "agent-ctl: editor 'false' failed (status 1): nothing changed"
	VISUAL="sed -i s/every/every/" run agent-ctl edit bot
	assert_success
	# the temporary file is gone, and was private
	assert_equal "$(ls "${TMPDIR:-/tmp}" | grep -c "^agent-ctl\..*\.json$" || true)" 0
}

@test "status: each agent's state; a disabled one says so" {
	agent-ctl add a -a echo -r 'cron:0 9 * * *' > /dev/null
	agent-ctl add b -a echo --status disabled_flapping > /dev/null
	sql "update agents set last_error = 'crashed' where name = 'b'"
	run agent-ctl status
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.name, .status, .state, .pid, .last_run, .last_error]' | paste -sd' ')" \
		'["a","inactive","stopped",null,null,null] ["b","disabled_flapping","flapping",null,null,"crashed"]'
	# the same fields with no runner as with one: the runner's empty
	assert_equal "$(echo "$output" | jq -c 'select(.name == "a") | keys_unsorted')" \
		'["name","status","state","pid","runner","next_fire","running","queued","last_run","last_result","last_error"]'
	assert_equal "$(echo "$output" | jq -c 'select(.name == "a") | [.runner, .next_fire, .running, .queued]')" '[null,null,0,0]'
	run agent-ctl status --table
	assert_line --index 0 --regexp '^NAME +STATUS +STATE +PID +JOBS +NEXT FIRE +LAST RUN +LAST ERROR$'
	assert_line --index 2 --regexp '^b +disabled_flapping +flapping +- .*crashed$'
}

@test "on a terminal: tables, and text from outside made harmless" {
	agent-ctl add bot -a echo > /dev/null
	sql "update agents set last_error = 'evil '||char(27)||'[2J'||char(7)||' end' where name = 'bot'"
	run agent-ctl list --table
	assert_line --index 0 --regexp '^NAME +STATUS +ABILITIES +RESPONSIBILITIES +LAST ERROR$'
	assert_line --index 1 --regexp '^bot +inactive +1 +0  evil ␛\[2J␇ end$'
	run agent-ctl show bot --table
	assert_line --regexp '^last_error +evil ␛\[2J␇ end$'
}

@test "usage errors: exit 2" {
	run agent-ctl
	assert_failure 2
	run agent-ctl frobnicate
	assert_failure 2
	run agent-ctl add
	assert_failure 2
	run agent-ctl show a b
	assert_failure 2
	run agent-ctl list --status active
	assert_failure 2
	run agent-ctl add x --retry fixed:3
	assert_failure 2
	run agent-ctl add x -r '{broken'
	assert_failure 2
	run agent-ctl --help
	assert_success
	assert_line --index 0 "usage: agent-ctl [OPTION]... COMMAND [ARG]..."
}
