#!/usr/bin/env bash
# Load test of a running Invitegate (release build) on loopback with wrk: the public hot paths
# (sign-up policy, token verification) and the CPU-bound one (login, argon2id). Reports
# requests/s, latency percentiles and the server's resident memory. Bounded: 10 s per scenario.
#   scripts/bench.sh http://127.0.0.1:8080 <admin-email> <admin-password>
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
EMAIL=${2:-owner@example.com}
PASSWORD=${3:-correct horse battery staple}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
case "$BASE" in http://127.*|http://localhost*) ;; *) echo "benchmarks target loopback only" >&2; exit 1;; esac
ACCESS=$(curl -sf "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
TOKEN=$(curl -sf "$BASE/api/v1/invitations" -H "authorization: Bearer $ACCESS" -H 'content-type: application/json' \
  -d '{"max_uses": 1000}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
tmp=$(mktemp -d)
cat > "$tmp/verify.lua" <<LUA
wrk.method = "POST"; wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"token":"$TOKEN"}'
LUA
cat > "$tmp/login.lua" <<LUA
wrk.method = "POST"; wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"nobody@example.com","password":"some password here"}'
LUA
echo "== GET /api/v1/signup-policy"; wrk -t2 -c32 -d10s --latency "$BASE/api/v1/signup-policy" | grep -E "Requests/sec|50%|99%|Non-2xx"
echo "== POST /api/v1/invitations/verify"; wrk -t2 -c32 -d10s --latency -s "$tmp/verify.lua" "$BASE/api/v1/invitations/verify" | grep -E "Requests/sec|50%|99%|Non-2xx"
echo "== POST /api/v1/auth/login (argon2id, unknown account)"; wrk -t2 -c8 -d10s --latency -s "$tmp/login.lua" "$BASE/api/v1/auth/login" | grep -E "Requests/sec|50%|99%|Non-2xx"
pid=$(pgrep -f "invitegate serve" | head -1 || true)
[ -n "$pid" ] && echo "server RSS: $(ps -o rss= -p "$pid") KiB"
rm -rf "$tmp"
