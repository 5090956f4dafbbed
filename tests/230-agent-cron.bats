#!/usr/bin/env bats
# Cron responsibilities in agent-run, on a clock the test controls
# ($PANIC_CLOCK, a file holding the time): a fire at the minute, never
# twice for one minute; daylight-saving gaps and repeats as cronie runs
# them; a fire time missed while no runner ran is not replayed unless the
# responsibility asks for catch_up; @reboot once per boot.

bats_require_minimum_version 1.5.0
load helper

state() { [ "$(agent-ctl status "$1" | jq -r .state)" = "$2" ]; }
count() { [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
# at TIME: the test clock says TIME (written whole, then renamed)
at() { echo "$1" > "$T/clock.new" && mv "$T/clock.new" "$T/clock"; }
# settle: give the runner time to act on what it was shown
settle() { sleep 0.3; }
fired() { jq -r '[.responsibility, .scheduled_at] | join(" ")' out | paste -sd'|'; }

@test "a cron job fires at its minute, once, however often the clock is read" {
	agent-ctl add c -a echo -r 'cron:*/5 * * * *' -r 'cron:0 12 * * *' --status active > /dev/null
	at 2026-06-01T11:54:59Z
	PANIC_CLOCK=$T/clock agent-run c > out &
	wait_for state c running
	assert_equal "$(agent-ctl status c | jq -r .next_fire)" "2026-06-01T11:55:00.000Z"
	at 2026-06-01T11:55:00Z
	wait_for count out 1
	at 2026-06-01T11:55:00.500Z
	at 2026-06-01T11:55:30Z
	at 2026-06-01T11:59:59.999Z
	settle
	at 2026-06-01T12:00:00.010Z
	wait_for count out 3
	settle
	kill %1
	wait
	assert_equal "$(fired)" "cron:*/5 * * * * 2026-06-01T11:55:00.000Z|cron:*/5 * * * * 2026-06-01T12:00:00.000Z|cron:0 12 * * * 2026-06-01T12:00:00.000Z"
	assert_equal "$(jq -c .payload out | head -1)" '{"responsibility":"cron:*/5 * * * *","scheduled_at":"2026-06-01T11:55:00.000Z"}'
}

@test "the clock set back: fixed-time jobs do not run again, wildcard jobs do (as cronie)" {
	agent-ctl add c -a echo -r '{"trigger":"cron:55 11 * * *","name":"fixed"}' -r '{"trigger":"cron:*/5 * * * *","name":"wild"}' --status active > /dev/null
	at 2026-06-01T11:54:59Z
	PANIC_CLOCK=$T/clock agent-run c > out &
	wait_for state c running
	at 2026-06-01T11:55:00Z
	wait_for count out 2
	at 2026-06-01T11:54:30Z
	settle
	at 2026-06-01T11:55:00Z
	wait_for count out 3
	settle
	kill %1
	wait
	assert_equal "$(fired | tr '|' '\n' | sort | paste -sd'|')" "fixed 2026-06-01T11:55:00.000Z|wild 2026-06-01T11:55:00.000Z|wild 2026-06-01T11:55:00.000Z"
}

@test "spring forward in New York: the 02:30 job runs at 03:00 EDT, the half-hourly one skips the gap" {
	agent-ctl add c -a echo -r '{"trigger":"cron:30 2 * * *","name":"fixed","tz":"America/New_York"}' \
		-r '{"trigger":"cron:*/30 * * * *","name":"wild","tz":"America/New_York"}' --status active > /dev/null
	at 2026-03-08T06:29:59Z  # 01:29:59 EST
	PANIC_CLOCK=$T/clock agent-run c > out &
	wait_for state c running
	at 2026-03-08T06:30:00Z  # 01:30 EST
	wait_for count out 1
	at 2026-03-08T06:59:59Z
	settle
	at 2026-03-08T07:00:00Z  # 03:00 EDT: the clock jumped an hour
	wait_for count out 3
	at 2026-03-08T07:30:00Z  # 03:30 EDT
	wait_for count out 4
	settle
	kill %1
	wait
	assert_equal "$(fired)" "wild 2026-03-08T06:30:00.000Z|fixed 2026-03-08T07:00:00.000Z|wild 2026-03-08T07:00:00.000Z|wild 2026-03-08T07:30:00.000Z"
}

@test "fall back in Berlin: the fixed job runs once, the wildcard job in both 02:xx hours" {
	agent-ctl add c -a echo -r '{"trigger":"cron:30 2 * * *","name":"fixed","tz":"Europe/Berlin"}' \
		-r '{"trigger":"cron:30 * * * *","name":"wild","tz":"Europe/Berlin"}' --status active > /dev/null
	at 2026-10-25T00:29:00Z  # 02:29 CEST
	PANIC_CLOCK=$T/clock agent-run c > out &
	wait_for state c running
	at 2026-10-25T00:30:00Z  # 02:30 CEST
	wait_for count out 2
	at 2026-10-25T01:30:00Z  # 02:30 CET, the second time
	wait_for count out 3
	at 2026-10-25T02:30:00Z  # 03:30 CET
	wait_for count out 4
	settle
	kill %1
	wait
	assert_equal "$(fired | tr '|' '\n' | sort | paste -sd'|')" "fixed 2026-10-25T00:30:00.000Z|wild 2026-10-25T00:30:00.000Z|wild 2026-10-25T01:30:00.000Z|wild 2026-10-25T02:30:00.000Z"
}

@test "missed while down: not replayed, unless catch_up asks, and then once" {
	agent-ctl add c -a echo -r '{"trigger":"cron:0 * * * *","name":"hourly"}' \
		-r '{"trigger":"cron:0 9 * * *","name":"daily","catch_up":true}' --status active > /dev/null
	at 2026-06-01T08:59:59Z
	PANIC_CLOCK=$T/clock agent-run c > out &
	wait_for state c running
	at 2026-06-01T09:00:00Z
	wait_for count out 2
	settle
	kill %1
	wait
	# three days later: neither is replayed at start but daily, once
	at 2026-06-04T10:30:00Z
	PANIC_CLOCK=$T/clock agent-run c > out2 &
	wait_for count out2 1
	settle
	kill %1
	wait
	assert_equal "$(wc -l < out2)" 1
	assert_equal "$(jq -c '[.responsibility, .payload]' out2)" \
		'["daily",{"responsibility":"daily","scheduled_at":"2026-06-02T09:00:00.000Z","catch_up":true,"missed":3}]'
	assert_equal "$(agent-ctl events c -n 0 | jq -r 'select(.event == "completed") | .responsibility' | paste -sd' ')" "hourly daily daily"
}

@test "@reboot fires once per boot" {
	agent-ctl add c -a echo -r 'cron:@reboot' -r stdin --status active > /dev/null
	run agent-run c --exit-on-eof < /dev/null
	assert_equal "$(echo "$output" | jq -r .responsibility)" "cron:@reboot"
	run agent-run c --exit-on-eof < /dev/null
	assert_output ""
}

@test "a late wake-up: under 5 minutes everything runs, under 3 hours only fixed-time jobs" {
	agent-ctl add c -a echo -r '{"trigger":"cron:* * * * *","name":"each"}' -r '{"trigger":"cron:5 10 * * *","name":"fixed"}' \
		-r '{"trigger":"cron:5 * * * *","name":"hourly"}' --status active > /dev/null
	at 2026-06-01T10:00:30Z
	PANIC_CLOCK=$T/clock agent-run c > out &
	wait_for state c running
	at 2026-06-01T10:03:00Z   # 2 minutes late: each, once
	wait_for count out 1
	at 2026-06-01T11:00:00Z   # 10:05 missed by 55 minutes: fixed runs, hourly does not
	wait_for count out 2
	settle
	kill %1
	wait
	assert_equal "$(fired)" "each 2026-06-01T10:01:00.000Z|fixed 2026-06-01T10:05:00.000Z"
}
