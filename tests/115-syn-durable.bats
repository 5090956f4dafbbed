#!/usr/bin/env bats
# Durable, exactly once: a workflow killed with SIGKILL at random moments,
# again and again, then run again over the same input, finishes every run,
# and no step's command runs again once its result is journalled.

bats_require_minimum_version 1.5.0
load helper
load flow

# The step command: appends "RUN STEP TOKEN" to the log, prints {STEP: TOKEN}.
step_sh() {
	cat > step.sh <<'S'
#!/bin/sh
cat > /dev/null
tok=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
echo "$SYN_RUN $SYN_STEP $tok" >> "$DIR/log"
printf '{"%s":"%s"}\n' "$SYN_STEP" "$tok"
S
	chmod +x step.sh
	export DIR=$T
}

# no_orphans: a killed stage's command finishes on its own; wait for it
no_orphans() { wait_for sh -c "! pgrep -f '$T/[s]tep.sh' > /dev/null"; }

# check N: the N runs are completed, once each, and every journalled
# result came from the last run of its command
check() {
	assert_equal "$(sql "select count(*) from workflow_runs")" "$1"
	assert_equal "$(sql "select count(*) from workflow_runs where status = 'completed'")" "$1"
	assert_equal "$(sql "select count(*) from workflow_steps where state = 'completed'")" $(($1 * 3))
	sql "select run_id, step, json_extract(result, '$.' || step) from workflow_steps" | tr '|' ' ' > journalled
	while read -r run step tok; do
		last=$(grep "^$run $step " log | tail -1 | cut -d' ' -f3)
		[ "$last" = "$tok" ] || fail "$run $step: journalled $tok, but its command ran after that ($last)"
	done < journalled
	assert_equal "$(wc -l < journalled)" $(($1 * 3))
}

@test "kill -9 of the whole pipeline or of one stage, at random moments: every run finishes, exactly once" {
	step_sh
	wf flow <<W
syn-step a -- $T/step.sh | syn-step b -j 3 -- $T/step.sh | syn-step c -- $T/step.sh
W
	seq 40 | sed 's/.*/{"n":&}/' > in
	local kills=0 i pid victim kids
	for i in $(seq 10); do
		setsid ./flow < in > "out.$i" 2> /dev/null &
		pid=$!
		sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
		kids=$(cat "/proc/$pid/task/$pid/children" 2> /dev/null || true)
		if [ $((RANDOM % 2)) = 0 ] || [ -z "$kids" ]; then
			kill -9 -- "-$pid" 2> /dev/null || true
		else
			victim=$(echo $kids | tr ' ' '\n' | shuf -n 1)
			kill -9 "$victim" 2> /dev/null || true
			kill -9 -- "-$pid" 2> /dev/null || true
		fi
		wait "$pid" 2> /dev/null || true
		no_orphans
		kills=$((kills + 1))
	done
	# whatever the kills left, running it again finishes every run
	run --separate-stderr timeout 120 ./flow < in
	assert_success
	assert_equal "$(echo "$output" | wc -l)" 40
	assert_equal "$(echo "$output" | jq -c 'select((.a | length) == 16 and (.b | length) == 16 and (.c | length) == 16) | .n' | sort -n | tr '\n' ' ')" \
		"$(seq 40 | tr '\n' ' ')"
	check 40
	# and again: nothing runs at all, the same records come out
	nlog=$(wc -l < log)
	run --separate-stderr timeout 120 ./flow < in
	assert_success
	assert_equal "$(wc -l < log)" "$nlog"
	assert_equal "$(echo "$output" | jq -r ._run | sort -u | wc -l)" 40
	# every extra run of a command was one a kill interrupted
	extra=$((nlog - 120))
	[ "$extra" -le $((kills * 5)) ] || fail "$extra commands ran again after $kills kills"
}

@test "a suspended run survives a kill of everything and a new pipeline: it resumes where it waited" {
	step_sh
	wf flow <<W
syn-step a -- $T/step.sh | syn-step ask --suspend 'OK?' | syn-step c -- $T/step.sh
W
	setsid ./flow <<< '{"n":1}' > out 2> /dev/null &
	pid=$!
	wait_for sh -c "sqlite3 '$PANIC_DB' \"select status from workflow_runs\" 2>/dev/null | grep -q waiting"
	kill -9 -- "-$pid" 2> /dev/null || true
	wait "$pid" 2> /dev/null || true
	id=$(sql 'select id from workflow_runs')
	run --separate-stderr syn-run resume "$id" '{"go": 1}'
	assert_success
	assert_equal "$(run_status "$id")" completed
	assert_equal "$(grep -c " a " log)" 1
	assert_equal "$(grep -c " c " log)" 1
}
