# flow: what the workflow suites (tests/1NN-syn-*.bats) share, loaded after
# helper.

# wf FILE: a workflow file made from the body on stdin, its #! line added
wf() {
	{ echo '#!/usr/bin/env syn-run'; cat; } > "$1"
	chmod +x "$1"
}

# listen PROGRAM [ARG]...: runs PROGRAM with a subscriber to every run's
# events ("synaptic:run:*" and "llm") in place; the events' data, one per
# line, go to $T/events; PROGRAM's stdout to $T/out, its stderr to $T/err.
listen() {
	panic-bus listen 'synaptic:run:*' llm -- sh -c '"$@" > "$0.out" 2> "$0.err"' "$T/prog" "$@" \
		> "$T/bus.out" 2> "$T/bus.err" || true
	jq -c .data "$T/bus.out" > "$T/events"
	mv "$T/prog.out" "$T/out"
	mv "$T/prog.err" "$T/err"
}

# run_status ID: the status of run ID
run_status() { sql "select status from workflow_runs where id = '$1'"; }

# journal: the journal's rows as "step|state|attempts|result", by run, then seq
journal() { sql "select step, state, attempts, coalesce(result, '') from workflow_steps order by run_id, seq"; }

# err_has TEXT: the last run's stderr has a line containing TEXT
err_has() {
	grep -qF -- "$1" <<< "$stderr" || fail "stderr lacks '$1':
$stderr"
}

# unique_sleep: a number of seconds no other test's sleep has (suites of
# other checkouts may run at the same time), for "sleep N" to be found by
# pgrep -x -f "sleep N" and nothing else
unique_sleep() { echo $((100000 + (RANDOM << 15 | RANDOM) % 899999)); }
