#!/usr/bin/env bash
# Runs the contracts' forge tests (unit, fuzz, invariants) offline: forge from npm, solc-js through
# solc-shim.mjs, OpenZeppelin from node_modules. Extra arguments go to `forge test`
# (e.g. --match-test test_claim -vvv). Build output goes to target-forge/ (git-ignored).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
FORGE="$ROOT/node_modules/.bin/forge"
command -v node >/dev/null 2>&1 || { echo "forge-test: Node.js 18+ is needed (solc-js runs on it): install it" >&2; exit 2; }
for need in "$FORGE" "$ROOT/node_modules/solc/package.json" "$ROOT/node_modules/@openzeppelin/contracts/package.json"; do
  [ -e "$need" ] || { echo "forge-test: $need is missing: run 'npm ci' in $ROOT" >&2; exit 2; }
done
chmod +x "$HERE/solc-shim.mjs" 2>/dev/null || true
cd "$HERE"
# the npm wrapper (node_modules/.bin/forge) does not pass forge's exit status on: a failing test would exit 0 and the
# suite would print green. Run the platform binary npm installed beside it, whose exit status is the tests'.
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PLATFORM=linux-amd64 ;;
  Linux-aarch64|Linux-arm64) PLATFORM=linux-arm64 ;;
  Darwin-arm64) PLATFORM=darwin-arm64 ;;
  Darwin-x86_64) PLATFORM=darwin-amd64 ;;
  *) PLATFORM="" ;;
esac
BIN="$ROOT/node_modules/@foundry-rs/forge-$PLATFORM/bin/forge"
[ -n "$PLATFORM" ] && [ -x "$BIN" ] || { echo "forge-test: no forge binary for $(uname -s)-$(uname -m) under node_modules/@foundry-rs (looked for $BIN): run 'npm ci' in $ROOT" >&2; exit 2; }
exec "$BIN" test --offline "$@"
