#!/bin/sh
# Checks what deploy/build.sh installed under PREFIX as the image would run it: the release
# binary serves the optimised web app from PREFIX/share/invitegate-web, and `invitegate
# healthcheck` (the image's HEALTHCHECK, under sh) follows it up and down.
set -eu
prefix="${1:?usage: deploy/smoke.sh PREFIX}"
bin="$prefix/bin/invitegate"
web="$prefix/share/invitegate-web"
data=$(mktemp -d)
pid=
trap 'test -z "$pid" || kill $pid 2>/dev/null; rm -rf "$data"' EXIT
trap 'exit 1' INT TERM HUP
command -v curl > /dev/null || { echo "deploy/smoke.sh needs curl" >&2; exit 1; }
port=$((20000 + $$ % 20000))
test -f "$web/index.html"
find "$web" -name '*.wasm.br' | grep -q . || { echo "no compressed bundles in $web" >&2; exit 1; }
INVITEGATE_BIND="127.0.0.1:$port" INVITEGATE_WEB_DIR="$web" INVITEGATE_DATA_DIR="$data" \
  INVITEGATE_LOG=warn "$bin" serve > "$data/out.log" 2>&1 &
pid=$!
up=no
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || break
  if "$bin" healthcheck --url "http://127.0.0.1:$port/readyz" > /dev/null 2>&1; then up=yes; break; fi
  sleep 0.1
done
test "$up" = yes || { cat "$data/out.log"; echo "the built server did not become ready" >&2; exit 1; }
curl -fsS "http://127.0.0.1:$port/app" | grep -q '<html' || { echo "no web app at /app" >&2; exit 1; }
kill $pid; wait $pid 2>/dev/null || true
pid=
if "$bin" healthcheck --url "http://127.0.0.1:$port/readyz" > /dev/null 2>&1; then
  echo "healthcheck passed against a stopped server" >&2; exit 1
fi
echo "deploy smoke test passed: $("$bin" --version)"
