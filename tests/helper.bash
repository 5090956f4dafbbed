# helper: loaded by every suite. Each test runs in a fresh directory with
# its own state file, bus and configuration, against the build under test
# ($PANIC_BIN, set by tools/check; build/bin by default).

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
PANIC_BIN=$(cd "${PANIC_BIN:-$TOP/build/bin}" && pwd)
PATH=$PANIC_BIN:$TOP/tests/bin:$PATH

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/panic-test.XXXXXX")
	export PANIC_DB=$T/state/panic.db PANIC_BUS=$T/bus
	export XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state XDG_RUNTIME_DIR=$T/run
	unset PANIC_MODELS PANIC_DUMMY_FAIL PANIC_DUMMY_FAIL_FIRST PANIC_DUMMY_FAIL_MATCH \
		PANIC_DUMMY_DELAY_MS PANIC_KEYS PANIC_PROFILES PANIC_HTTP_BACKOFF_MS \
		OPENAI_API_KEY OPENAI_BASE_URL REPLICATE_API_TOKEN REPLICATE_BASE_URL \
		GEMINI_API_KEY GEMINI_BASE_URL FAKE_KEY
	cd "$T"
}

teardown() {
	# a test that failed half-way may leave subscribers running
	local j
	for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done
	cd /
	rm -rf "$T"
	# what a test had to make outside $T (it names it in MADE)
	local p
	for p in ${MADE:-}; do rm -rf "$p"; done
}

# md5 of a string, as hex
md5() { printf '%s' "$1" | md5sum | cut -c1-32; }

# sql QUERY: run QUERY on the test's state file
sql() { sqlite3 "$PANIC_DB" "$1"; }

# field NAME: print .NAME of each output line (as jq -r)
field() { jq -r ".$1"; }

# wait_for CMD...: retry CMD for up to 10 s
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# as_other CMD...: run CMD as another user (nobody) when the tests run as
# root, for what only permissions can show (a state file that cannot be
# written, a bus directory that is not ours); panic's programs are copied
# where that user can run them. As any other user, CMD runs as it is.
as_other() {
	if [ "$(id -u)" != 0 ]; then
		"$@"
		return
	fi
	if [ ! -d "$T/other-bin" ]; then
		mkdir -p "$T/other-bin"
		cp "$PANIC_BIN"/* "$T/other-bin/"
		chmod 755 "$T" "$T/other-bin" "$T"/other-bin/*
	fi
	PATH=$T/other-bin:$PATH setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# start_fake_api: fake-api on a free port (tests/bin/fake-api, logging to
# $T/log), with the platforms' base URLs pointing at it; sets PORT
start_fake_api() {
	fake-api "$T/port" "$T/log" 2> "$T/fake.err" &
	wait_for test -s "$T/port"
	PORT=$(cat "$T/port")
	export OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1
	export REPLICATE_BASE_URL=http://127.0.0.1:$PORT/replicate/v1
	export GEMINI_BASE_URL=http://127.0.0.1:$PORT/gemini/v1beta
	export PANIC_HTTP_BACKOFF_MS=20
}
