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
exec "$FORGE" test --offline "$@"
