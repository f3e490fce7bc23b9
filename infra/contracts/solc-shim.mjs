#!/usr/bin/env node
// A `solc` command for forge, backed by solc-js from node_modules (no native solc is obtainable
// here). Supports what forge uses: `--version` and `--standard-json` (input on stdin, output on
// stdout); imports forge did not inline are read from disk relative to the working directory,
// the base/include paths forge passes, and the checkout's node_modules.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeModules = path.resolve(here, '..', '..', 'node_modules');
const require = createRequire(path.join(nodeModules, 'solc', 'package.json'));
const solc = require('solc');
const args = process.argv.slice(2);

if (args.includes('--version')) {
  const v = solc.version().replace('.Emscripten.clang', '.Linux.g++');
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${v}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write(`solc-shim: only --version and --standard-json are supported (got: ${args.join(' ')})\n`);
  process.exit(2);
}
const roots = [process.cwd(), nodeModules];
for (let i = 0; i < args.length; i++) {
  if (['--base-path', '--include-path', '--allow-paths'].includes(args[i]) && args[i + 1]) {
    roots.push(...args[i + 1].split(','));
  }
}
function findImports(p) {
  for (const r of ['', ...roots]) {
    const full = r ? path.resolve(r, p) : p;
    if (fs.existsSync(full) && fs.statSync(full).isFile()) return { contents: fs.readFileSync(full, 'utf8') };
  }
  return { error: `solc-shim: file not found: ${p}` };
}
const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
