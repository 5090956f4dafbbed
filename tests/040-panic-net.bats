#!/usr/bin/env bats
# panic-net: networks in the state file, and the chain check.

bats_require_minimum_version 1.5.0
load helper

@test "create prints the network and stores it; show and list read it back" {
	run --separate-stderr panic-net create art dummy-t2i dummy-i2a dummy-a2t --lockout 5 -d 'a cycle'
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.name, .models, .lockout_seconds, .description]')" \
		'["art",["dummy-t2i","dummy-i2a","dummy-a2t"],5,"a cycle"]'
	[[ $(echo "$output" | jq -r .id) =~ ^[0-9a-f-]{36}$ ]]
	assert_equal "$(sql "select name, models, lockout_seconds from networks")" \
		'art|["dummy-t2i","dummy-i2a","dummy-a2t"]|5'
	run --separate-stderr panic-net show art
	assert_equal "$(echo "$output" | jq -c .models)" '["dummy-t2i","dummy-i2a","dummy-a2t"]'
	panic-net create solo dummy-t2t
	run --separate-stderr panic-net list
	assert_equal "$(echo "$output" | jq -r '[.name, .lockout_seconds] | @tsv' | paste -sd' ')" "$(printf 'art\t5 solo\t30')"
	run --separate-stderr panic-net list --table
	assert_line --index 0 --regexp '^NAME +LOCKOUT  MODELS  # DESCRIPTION$'
	assert_line --index 1 --regexp '^art +5s  dummy-t2i -> dummy-i2a -> dummy-a2t  # a cycle$'
	assert_line --index 2 --regexp '^solo +30s  dummy-t2t$'
}

@test "set changes models, lockout and description; the others stay" {
	panic-net create art dummy-t2t -d keep
	run --separate-stderr panic-net set art --lockout 0
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.models, .lockout_seconds, .description]')" '[["dummy-t2t"],0,"keep"]'
	run --separate-stderr panic-net set art dummy-t2a dummy-a2t
	assert_equal "$(echo "$output" | jq -c '[.models, .lockout_seconds]')" '[["dummy-t2a","dummy-a2t"],0]'
	run --separate-stderr panic-net set art -d ''
	assert_equal "$(echo "$output" | jq -c .description)" null
	run --separate-stderr panic-net set art --lockout 1m30s
	assert_equal "$(echo "$output" | jq -c .lockout_seconds)" 90
	run --separate-stderr panic-net set art --lockout 0.2
	assert_equal "$(echo "$output" | jq -c .lockout_seconds)" 1
	run --separate-stderr panic-net set art --lockout soon
	assert_failure 2
	run --separate-stderr panic-net set nope --lockout 3
	assert_failure 3
	assert_equal "$stderr" "panic-net: no network 'nope'"
}

@test "a network whose types do not chain is refused, naming the first bad link" {
	refused() {
		run --separate-stderr panic-net create n "$@"
		assert_failure 3
		assert_equal "$output" ""
		assert_equal "$stderr" "panic-net: invalid network: $WHY"
	}
	WHY='model 1 (dummy-t2i) gives image but model 2 (dummy-t2t) takes text' refused dummy-t2i dummy-t2t
	WHY='model 2 (dummy-i2a) gives audio but model 3 (dummy-i2t) takes image' refused dummy-t2i dummy-i2a dummy-i2t
	WHY='model 1 (dummy-i2t) takes image: the first model must take text (the prompt)' refused dummy-i2t dummy-t2i
	WHY='model 2 (dummy-i2a) gives audio but the cycle goes back to model 1 (dummy-t2i), which takes text' refused dummy-t2i dummy-i2a
	WHY="model 2: unknown model 'nope'" refused dummy-t2t nope
	assert_equal "$(sql 'select count(*) from networks')" 0
	# and set checks the same way, leaving the network as it was
	panic-net create ok dummy-t2t
	run --separate-stderr panic-net set ok dummy-t2i
	assert_failure 3
	assert_equal "$(panic-net show ok | jq -c .models)" '["dummy-t2t"]'
}

@test "a user catalogue's models can make a network" {
	printf '%s\n' '[{"id":"cap","platform":"exec","input":"image","output":"text","command":["cat"]}]' > models.json
	run --separate-stderr panic-net create mine dummy-t2i cap --models models.json
	assert_success
	PANIC_MODELS=$T/models.json run --separate-stderr panic-net create mine2 dummy-t2i cap
	assert_success
}

@test "names: duplicates and bad names are refused" {
	panic-net create art dummy-t2t
	run --separate-stderr panic-net create art dummy-t2t
	assert_failure 3
	assert_equal "$stderr" "panic-net: network 'art' already exists"
	for bad in 'two words' '-x' '.hidden' 'a/b' "$(printf 'x%.0s' $(seq 65))"; do
		run --separate-stderr panic-net create "$bad" dummy-t2t
		assert_failure 2
	done
	assert_equal "$(sql 'select count(*) from networks')" 1
}

@test "delete refuses a network with runs unless --force, which takes them too" {
	panic-net create a dummy-t2t
	panic-net create b dummy-t2t
	run --separate-stderr panic-net delete a
	assert_success
	sql "insert into runs (id, network_id, prompt, state, started_at) select 'r1', id, 'p', 'running', 't' from networks where name = 'b'"
	sql "insert into invocations (id, network_id, run_id, seq, model, input, state) select 'i1', id, 'r1', 0, 'dummy-t2t', 'p', 'ready' from networks where name = 'b'"
	run --separate-stderr panic-net delete b
	assert_failure 3
	assert_equal "$stderr" "panic-net: network 'b' has 1 run: --force deletes them and their invocations too"
	run --separate-stderr panic-net delete --force b
	assert_success
	assert_equal "$(sql 'select (select count(*) from networks), (select count(*) from runs), (select count(*) from invocations)')" "0|0|0"
	run --separate-stderr panic-net delete b
	assert_failure 3
	assert_equal "$stderr" "panic-net: no network 'b'"
}

@test "usage errors exit 2; show of a missing network exits 3" {
	run --separate-stderr panic-net list
	assert_success
	assert_equal "$output" ""
	run --separate-stderr panic-net show nope
	assert_failure 3
	assert_equal "$stderr" "panic-net: no network 'nope' (see panic-net list)"
	run --separate-stderr panic-net
	assert_failure 2
	run --separate-stderr panic-net frob
	assert_failure 2
	run --separate-stderr panic-net create art
	assert_failure 2
	run --separate-stderr panic-net --lockout x create a dummy-t2t
	assert_failure 2
	run --separate-stderr panic-net --help
	assert_success
}
