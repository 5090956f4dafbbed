#!/usr/bin/env bats
# Cron as cronie reads it, fire times computed by hand: lists, ranges,
# steps, names, macros, leap days, the day-of-month/day-of-week rule, and
# daylight-saving gaps and repeats the way cronie handles them (cron(8):
# jobs at a fixed time in a skipped hour run at the jump, wildcard jobs
# skip it; in a repeated hour only wildcard jobs run again), in several
# zones. No test waits for the clock: agent-ctl next --from.

bats_require_minimum_version 1.5.0
load helper

# next EXPR ZONE FROM N: the fire times, one a line
next() { agent-ctl next "$1" --tz "$2" --from "$3" -n "$4"; }

@test "leap days: Feb 29 every four years, not in 2100" {
	run next '0 0 29 2 *' UTC 2026-01-01T00:00:00Z 3
	assert_success
	assert_output "2028-02-29T00:00:00Z
2032-02-29T00:00:00Z
2036-02-29T00:00:00Z"
	run next '0 0 29 2 *' UTC 2096-03-01T00:00:00Z 2
	assert_output "2104-02-29T00:00:00Z
2108-02-29T00:00:00Z"
}

@test "day of month and day of week: either, unless one starts with *" {
	# both restricted: the 1st, the 15th and every Sunday (Feb 1 2026 is a Sunday)
	run next '0 0 1,15 * Sun' UTC 2026-02-01T00:00:00Z 6
	assert_output "2026-02-08T00:00:00Z
2026-02-15T00:00:00Z
2026-02-22T00:00:00Z
2026-03-01T00:00:00Z
2026-03-08T00:00:00Z
2026-03-15T00:00:00Z"
	# */10 starts with *: both must match (the 1st, 11th, 21st or 31st on a Sunday)
	run next '0 0 */10 * Sun' UTC 2026-02-01T00:00:00Z 4
	assert_output "2026-03-01T00:00:00Z
2026-05-31T00:00:00Z
2026-06-21T00:00:00Z
2026-10-11T00:00:00Z"
	# day-of-week * : only the day of month
	run next '0 6 13 * *' UTC 2026-01-01T00:00:00Z 2
	assert_output "2026-01-13T06:00:00Z
2026-02-13T06:00:00Z"
}

@test "lists, ranges, steps, names, Sunday as 7 and 5-0" {
	run next '*/15 9-10 * * *' UTC 2026-01-01T09:20:00Z 5
	assert_output "2026-01-01T09:30:00Z
2026-01-01T09:45:00Z
2026-01-01T10:00:00Z
2026-01-01T10:15:00Z
2026-01-01T10:30:00Z"
	run next '0 9 * JAN-mar mon-FRI' UTC 2026-03-27T10:00:00Z 3
	assert_output "2026-03-30T09:00:00Z
2026-03-31T09:00:00Z
2027-01-01T09:00:00Z"
	run next '0 0 * * 7' UTC 2026-01-01T00:00:00Z 2
	assert_output "2026-01-04T00:00:00Z
2026-01-11T00:00:00Z"
	# Friday to Sunday (Jan 1 2026 is a Thursday)
	run next '0 12 * * 5-0' UTC 2026-01-01T00:00:00Z 4
	assert_output "2026-01-02T12:00:00Z
2026-01-03T12:00:00Z
2026-01-04T12:00:00Z
2026-01-09T12:00:00Z"
	run next '1,2,59 23 31 12 *' UTC 2026-06-01T00:00:00Z 4
	assert_output "2026-12-31T23:01:00Z
2026-12-31T23:02:00Z
2026-12-31T23:59:00Z
2027-12-31T23:01:00Z"
	run next '0-10/5,50-59/3 * * * *' UTC 2026-01-01T00:00:00Z 6
	assert_output "2026-01-01T00:05:00Z
2026-01-01T00:10:00Z
2026-01-01T00:50:00Z
2026-01-01T00:53:00Z
2026-01-01T00:56:00Z
2026-01-01T00:59:00Z"
}

@test "macros, with or without cron:" {
	run next '@hourly' UTC 2026-01-01T10:10:00Z 2
	assert_output "2026-01-01T11:00:00Z
2026-01-01T12:00:00Z"
	run next 'cron:@daily' UTC 2026-01-01T10:10:00Z 1
	assert_output "2026-01-02T00:00:00Z"
	run next '@midnight' UTC 2026-01-01T10:10:00Z 1
	assert_output "2026-01-02T00:00:00Z"
	run next '@weekly' UTC 2026-01-01T00:00:00Z 1
	assert_output "2026-01-04T00:00:00Z"
	run next '@monthly' UTC 2026-01-15T00:00:00Z 2
	assert_output "2026-02-01T00:00:00Z
2026-03-01T00:00:00Z"
	run next '@yearly' UTC 2026-01-15T00:00:00Z 1
	assert_output "2027-01-01T00:00:00Z"
	run next '@annually' UTC 2026-01-15T00:00:00Z 1
	assert_output "2027-01-01T00:00:00Z"
	run --separate-stderr next '@reboot' UTC 2026-01-15T00:00:00Z 1
	assert_success
	assert_output ""
	assert_equal "$stderr" "agent-ctl: @reboot fires once per boot, when the agent starts"
}

@test "New York, spring forward: a fixed-time job in the gap runs at 03:00, then as usual" {
	# 2026-03-08 02:00 EST becomes 03:00 EDT
	run next '30 2 * * *' America/New_York 2026-03-07T12:00:00Z 3
	assert_output "2026-03-08T03:00:00-04:00
2026-03-09T02:30:00-04:00
2026-03-10T02:30:00-04:00"
	run next '0 2 * * *' America/New_York 2026-03-07T12:00:00Z 2
	assert_output "2026-03-08T03:00:00-04:00
2026-03-09T02:00:00-04:00"
	# a job at 03:00 runs once
	run next '0 3 * * *' America/New_York 2026-03-07T12:00:00Z 2
	assert_output "2026-03-08T03:00:00-04:00
2026-03-09T03:00:00-04:00"
}

@test "New York, spring forward: a wildcard job skips the missing hour" {
	run next '*/30 * * * *' America/New_York 2026-03-08T06:00:00Z 4
	assert_output "2026-03-08T01:30:00-05:00
2026-03-08T03:00:00-04:00
2026-03-08T03:30:00-04:00
2026-03-08T04:00:00-04:00"
	run --separate-stderr next '30 * * * *' America/New_York 2026-03-08T06:00:00Z 3
	assert_output "2026-03-08T01:30:00-05:00
2026-03-08T03:30:00-04:00
2026-03-08T04:30:00-04:00"
}

@test "New York, fall back: a fixed-time job runs once, a wildcard job in both hours" {
	# 2026-11-01 02:00 EDT becomes 01:00 EST
	run next '30 1 * * *' America/New_York 2026-10-31T12:00:00Z 2
	assert_output "2026-11-01T01:30:00-04:00
2026-11-02T01:30:00-05:00"
	run next '30 * * * *' America/New_York 2026-11-01T04:00:00Z 4
	assert_output "2026-11-01T00:30:00-04:00
2026-11-01T01:30:00-04:00
2026-11-01T01:30:00-05:00
2026-11-01T02:30:00-05:00"
	run agent-ctl next '30 1 * * *' --tz America/New_York --from 2026-10-31T12:00:00Z -n 2 --utc
	assert_output "2026-11-01T05:30:00Z
2026-11-02T06:30:00Z"
}

@test "Berlin: the gap and the repeat, fixed and wildcard" {
	# 2026-03-29 02:00 CET becomes 03:00 CEST
	run next '15 2 * * *' Europe/Berlin 2026-03-28T12:00:00Z 2
	assert_output "2026-03-29T03:00:00+02:00
2026-03-30T02:15:00+02:00"
	run next '*/20 2 * * *' Europe/Berlin 2026-03-28T12:00:00Z 2
	assert_output "2026-03-30T02:00:00+02:00
2026-03-30T02:20:00+02:00"
	# 2026-10-25 03:00 CEST becomes 02:00 CET
	run next '30 2 * * *' Europe/Berlin 2026-10-24T12:00:00Z 2
	assert_output "2026-10-25T02:30:00+02:00
2026-10-26T02:30:00+01:00"
	run next '*/20 2 * * *' Europe/Berlin 2026-10-24T23:00:00Z 7
	assert_output "2026-10-25T02:00:00+02:00
2026-10-25T02:20:00+02:00
2026-10-25T02:40:00+02:00
2026-10-25T02:00:00+01:00
2026-10-25T02:20:00+01:00
2026-10-25T02:40:00+01:00
2026-10-26T02:00:00+01:00"
}

@test "Lord Howe's half-hour change, a POSIX TZ rule, and a skipped day (Apia, 2011)" {
	# 2026-10-04 02:00 +10:30 becomes 02:30 +11:00
	run next '15 2 * * *' Australia/Lord_Howe 2026-10-03T00:00:00Z 2
	assert_output "2026-10-04T02:30:00+11:00
2026-10-05T02:15:00+11:00"
	run next '0 12 * * mon-fri' 'EST5EDT,M3.2.0,M11.1.0' 2026-03-06T00:00:00Z 2
	assert_output "2026-03-06T12:00:00-05:00
2026-03-09T12:00:00-04:00"
	# 30 Dec 2011 never happened in Samoa: a change of more than 3 hours is
	# a new time, and what it skipped is skipped
	run next '0 10 30 12 *' Pacific/Apia 2011-12-20T00:00:00Z 1
	assert_output "2012-12-30T10:00:00+14:00"
}

@test "the local zone is \$TZ's, and a fire time equal to --from is not next" {
	TZ=Asia/Kolkata run agent-ctl next '0 9 * * *' --from 2026-01-01T03:30:00Z -n 2
	assert_output "2026-01-02T09:00:00+05:30
2026-01-03T09:00:00+05:30"
	echo '2026-01-01T03:29:59.999Z' > clock
	TZ=Asia/Kolkata PANIC_CLOCK=$T/clock run agent-ctl next '0 9 * * *' -n 1
	assert_output "2026-01-01T09:00:00+05:30"
}

@test "bad expressions: each a clear error naming the field, exit 3" {
	while IFS='|' read -r expr why; do
		run --separate-stderr agent-ctl next "$expr"
		assert_failure 3
		assert_equal "$stderr" "agent-ctl: cron '$expr': $why"
	done <<'EOF2'
61 * * * *|minute: 61 is out of range 0-59
* * *|3 fields (5: minute hour day-of-month month day-of-week)
* * * * * *|6 fields (5: minute hour day-of-month month day-of-week)
*/0 * * * *|minute: '*/0': a step of 0
@never|'@never': unknown (@reboot @yearly @annually @monthly @weekly @daily @midnight @hourly)
0 0 31 2 *|never fires: no month it names has the day-of-month it names
0 0 30,31 2 *|never fires: no month it names has the day-of-month it names
10-5 * * * *|minute: range 10-5 is backwards
5/10 * * * *|minute: '5/10': a step needs '*' or a range before it (such as 5-59/10)
0 0 * * funday|day-of-week: 'funday' is not a number or a day name (Sun..Sat)
0 0 * smarch *|month: 'smarch' is not a number or a month name (Jan..Dec)
0 24 * * *|hour: 24 is out of range 0-23
0 0 0 * *|day-of-month: 0 is out of range 1-31
1,,2 * * * *|minute: expected a number at ',2'
EOF2
	run --separate-stderr agent-ctl next ''
	assert_failure 3
	# a restricted day of week makes February 31 fire on Mondays
	run agent-ctl next '0 0 31 2 mon' --tz UTC --from 2026-01-01T00:00:00Z -n 1
	assert_output "2026-02-02T00:00:00Z"
}

@test "bad zones and times: refused, never a file outside the zone directory" {
	run --separate-stderr agent-ctl next '0 0 * * *' --tz ../../../etc/passwd
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: '../../../etc/passwd': no such time zone (see /usr/share/zoneinfo)"
	run --separate-stderr agent-ctl next '0 0 * * *' --tz /etc/passwd
	assert_failure 3
	run --separate-stderr agent-ctl next '0 0 * * *' --tz Nowhere/City
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: 'Nowhere/City': no such time zone (see /usr/share/zoneinfo)"
	# a zone file that is not one
	mkdir zones && printf 'not a zone' > zones/Bad
	TZDIR=$T/zones run --separate-stderr agent-ctl next '0 0 * * *' --tz Bad
	assert_failure 3
	assert_equal "$stderr" "agent-ctl: Bad: not a TZif zone file"
	run --separate-stderr agent-ctl next '0 0 * * *' --from yesterday
	assert_failure 2
	[[ $stderr == "agent-ctl: --from: 'yesterday' is not an RFC 3339 time"* ]]
}
