#!/bin/sh
# The Docker image's build stage, as a script so that CI runs the same commands: the optimised
# web app (wasm-opt required) and the release server, installed under PREFIX as
# PREFIX/bin/invitegate and PREFIX/share/invitegate-web. Run from the repository root.
set -eu
prefix="${1:?usage: deploy/build.sh PREFIX}"
target="${CARGO_TARGET_DIR:-target}"
INVITEGATE_REQUIRE_WASM_OPT=1 cargo xtask web
cargo build --release --locked --package invitegate-server --bin invitegate
mkdir -p "$prefix/bin" "$prefix/share"
rm -rf "$prefix/share/invitegate-web"
cp -r frontend/dist "$prefix/share/invitegate-web"
cp "$target/release/invitegate" "$prefix/bin/invitegate"
