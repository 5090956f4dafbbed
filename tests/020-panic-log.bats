#!/usr/bin/env bats
# panic-log: the call log, newest last, filters, formats, bad input.

bats_require_minimum_version 1.5.0
load helper

fill() {
	printf '%s\n' one two three | panic-invoke -m dummy-t2t >/dev/null
	echo four | panic-invoke -m dummy-t2i >/dev/null
	PANIC_DUMMY_FAIL=1 panic-invoke -m dummy-t2t -q <<<five >/dev/null || true
}

@test "the recent calls, oldest first, as NDJSON off a terminal" {
	fill
	run --separate-stderr panic-log
	assert_success
	assert_equal "${#lines[@]}" 5
	assert_equal "$(echo "$output" | jq -c '[.model, .input, .output, .state]' | paste -sd' ')" \
		'["dummy-t2t","one","DUMMY_TEXT: eno","completed"] ["dummy-t2t","two","DUMMY_TEXT: owt","completed"] ["dummy-t2t","three","DUMMY_TEXT: eerht","completed"] ["dummy-t2i","four","https://dummy-images.test/'"$(md5 four)"'.png","completed"] ["dummy-t2t","five",null,"failed"]'
	assert_equal "$(echo "$output" | tail -1 | jq -c .error)" '{"kind":"injected","message":"dummy: injected failure (every call fails)"}'
	assert_equal "$(echo "$output" | head -1 | jq -r 'keys_unsorted | join(",")')" \
		"id,started_at,model,platform,input_type,output_type,state,input,output,usage,cost,duration_ms,network,run_id,step,agent,error"
}

@test "-n keeps the newest N; -m keeps one model; --json on demand" {
	fill
	run --separate-stderr panic-log -n 2 --json
	assert_success
	assert_equal "$(echo "$output" | jq -r .input | paste -sd' ')" "four five"
	run --separate-stderr panic-log -m dummy-t2t -n 2
	assert_equal "$(echo "$output" | jq -r .input | paste -sd' ')" "three five"
	run --separate-stderr panic-log -m dummy-t2i
	assert_equal "$(echo "$output" | jq -r .input)" "four"
	run --separate-stderr panic-log -m nothing
	assert_success
	assert_equal "$output" ""
	seq -f 'p%g' 1 30 | panic-invoke -m dummy-t2t >/dev/null
	run panic-log
	assert_equal "${#lines[@]}" 20
	run panic-log -n 0
	assert_equal "${#lines[@]}" 35
}

@test "--table prints one readable line per call" {
	fill
	COLUMNS=80 run --separate-stderr panic-log --table -n 2
	assert_success
	assert_line --index 0 --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8} +dummy-t2i +completed +[0-9]+ ms +four -> https://dummy[-a-z.]*\.\.\.$'
	assert_line --index 1 --regexp '^.*dummy-t2t +failed .* five -> dummy: inj.*\.\.\.$'
	for l in "${lines[@]}"; do [ "${#l}" -le 80 ]; done
}

@test "no state file yet is no calls yet, but a --db that is not there is an error; usage errors exit 2" {
	run --separate-stderr panic-log
	assert_success
	assert_equal "$output$stderr" ""
	[ ! -e "$PANIC_DB" ]
	run --separate-stderr panic-log --db "$T/nope.db"
	assert_failure 3
	assert_equal "$stderr" "panic-log: state: $T/nope.db: No such file or directory"
	run --separate-stderr panic-log -n many
	assert_failure 2
	assert_equal "$(echo "$stderr" | head -1)" "panic-log: -n: expected a whole number from 0 to 1099511627776, got 'many'"
	run --separate-stderr panic-log extra
	assert_failure 2
	run --separate-stderr panic-log --help
	assert_success
	assert_line --index 0 --partial 'usage: panic-log'
}

@test "--db and PANIC_DB choose the state file" {
	echo x | panic-invoke -m dummy-t2t --db "$T/other.db" >/dev/null
	run --separate-stderr panic-log --db "$T/other.db"
	assert_success
	assert_equal "$(echo "$output" | jq -r .input)" x
	PANIC_DB=$T/other.db run --separate-stderr panic-log
	assert_equal "$(echo "$output" | jq -r .input)" x
}

@test "--table shows model output harmlessly: no escape sequence reaches the terminal" {
	printf '%s\n' '{"input":"x"}' | panic-invoke --no-log -- printf '\033]0;owned\007\033[2J\033[31mred\302\233m\n' > /dev/null
	printf '%s\n' 'title' | panic-invoke -- printf '\033]0;owned\007\033[2J\033[31mred\302\2331m\342\200\256gnp.exe' > /dev/null
	run --separate-stderr panic-log --table
	assert_success
	# no ESC, BEL or C1 byte, no right-to-left override: shown as pictures
	[ "$(printf '%s' "$output" | LC_ALL=C grep -c $'[\033\007]')" = 0 ]
	[ "$(printf '%s' "$output" | grep -c $'\302\233')" = 0 ]
	[ "$(printf '%s' "$output" | grep -c $'\342\200\256')" = 0 ]
	assert_output --partial '␛]0;owned␇␛[2J␛[31mred�1m�gnp.exe'
}

@test "filters: --network, --run, --agent and -s pick calls by their links and text; --totals follows them" {
	jq -nc '{input: "A Cat at sea", network: "foyer", run_id: "r1"},
		{input: "a dog", network: "foyer", run_id: "r2"},
		{input: "the CAT again", agent: "scout"},
		{input: "nothing"}' | panic-invoke -m dummy-t2t > /dev/null
	PANIC_DUMMY_FAIL=1 panic-invoke -m dummy-t2t -q <<<'boom' > /dev/null || true
	pick() { panic-log "$@" | jq -r .input | paste -sd'|'; }
	assert_equal "$(pick --network foyer)" "A Cat at sea|a dog"
	assert_equal "$(pick --run r2)" "a dog"
	assert_equal "$(pick --agent scout)" "the CAT again"
	assert_equal "$(pick -s cat)" "A Cat at sea|the CAT again"
	assert_equal "$(pick --search 'CAT' --network foyer)" "A Cat at sea"
	assert_equal "$(pick -s 'injected failure')" "boom"
	assert_equal "$(pick -s 'no such text')" ""
	assert_equal "$(pick -s '%')" ""
	assert_equal "$(pick -s cat -n 1)" "the CAT again"
	assert_equal "$(panic-log -t --network foyer | jq -c 'select(.model == null) | .calls')" 2
	assert_equal "$(panic-log -t -s 'injected' | jq -c 'select(.model == null) | [.calls, .failed]')" "[1,1]"
	run --separate-stderr panic-log --network
	assert_failure 2
}
