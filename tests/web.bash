# web: what the panic-web suites (tests/5NN-*.bats) share, loaded after
# helper.

# start_web [OPTION]...: panic-web on a free port; sets URL and WEB_PID
start_web() {
	panic-web --listen 127.0.0.1:0 "$@" 2> "$T/web.err" &
	WEB_PID=$!
	wait_for grep -q 'listening on' "$T/web.err"
	URL=$(grep -o 'http://[^ ]*' "$T/web.err")
}

# csrf: a CSRF token for a form sent with curl
csrf() { curl -s "$URL/api/csrf" | jq -r .csrf; }

# api [CURL OPTION]...: the body and, after a space, the status code, one line
api() { curl -s -w ' %{http_code}' "$@" | tr -d '\n'; }

# post PATH JSON: a JSON POST with the CSRF header
post() { api -X POST -H "X-CSRF-Token: $(csrf)" -H 'Content-Type: application/json' -d "$2" "$URL$1"; }
