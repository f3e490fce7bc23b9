#!/usr/bin/env node
// Compiles src/main/solidity/*.sol with solc-js (standard JSON) and OpenZeppelin from the checkout's
// node_modules, writing for each contract: <out>/Name.abi, <out>/Name.bin, <out>/Name.json
// ({abi, bytecode}: the input of web3j-maven-plugin's abiSourceFiles mode) and <out>/full/Name.json
// (abi, bytecode, deployed bytecode, method ids). Skips the compile when nothing changed.
// Usage: node build.mjs <outDir>
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const nodeModules = path.join(root, 'node_modules');
const srcDir = path.join(here, 'src', 'main', 'solidity');
const outDir = path.resolve(process.argv[2] || path.join(here, 'target', 'contracts'));

function fail(msg) {
  console.error(`contracts build: ${msg}`);
  process.exit(1);
}

if (!fs.existsSync(path.join(nodeModules, 'solc', 'package.json'))
    || !fs.existsSync(path.join(nodeModules, '@openzeppelin', 'contracts', 'package.json'))) {
  fail(`solc-js or @openzeppelin/contracts is missing from ${nodeModules}: run 'npm ci' in ${root} (Node 18+), then build again`);
}
const require = createRequire(path.join(nodeModules, 'solc', 'package.json'));
const solc = require('solc');
const ozVersion = JSON.parse(fs.readFileSync(path.join(nodeModules, '@openzeppelin', 'contracts', 'package.json'), 'utf8')).version;

// Shared with forge-test.sh's compiler settings (foundry.toml): keep both in step.
export const settings = {
  optimizer: { enabled: true, runs: 10000 },
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.methodIdentifiers'] } },
};

const files = fs.readdirSync(srcDir).filter((f) => f.endsWith('.sol')).sort();
if (files.length === 0) fail(`no .sol files in ${srcDir}`);
const sources = {};
for (const f of files) sources[f] = { content: fs.readFileSync(path.join(srcDir, f), 'utf8') };

const fingerprint = createHash('sha256')
  .update(JSON.stringify({ solc: solc.version(), oz: ozVersion, settings, sources }))
  .digest('hex');
const stamp = path.join(outDir, '.fingerprint');
if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === fingerprint) {
  console.log(`contracts build: up to date (${outDir})`);
  process.exit(0);
}

function findImports(p) {
  for (const base of [srcDir, nodeModules]) {
    const full = path.join(base, p);
    if (full.startsWith(base) && fs.existsSync(full)) return { contents: fs.readFileSync(full, 'utf8') };
  }
  return { error: `cannot find import ${p} in ${srcDir} or ${nodeModules} (run 'npm ci'?)` };
}

const started = Date.now();
const output = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings }), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
// OpenZeppelin's TransientSlot always warns about EIP-1153; the reentrancy guard's use is the safe one
for (const e of output.errors || []) {
  if (e.severity !== 'error' && (e.sourceLocation?.file || '').startsWith('@openzeppelin/')) continue;
  console.error(e.formattedMessage);
}
if (errors.length) fail(`${errors.length} Solidity error(s), see above`);

fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(path.join(outDir, 'full'), { recursive: true });
let n = 0;
for (const f of files) {
  for (const [name, c] of Object.entries(output.contracts[f] || {})) {
    const bytecode = c.evm.bytecode.object;
    if (!bytecode) continue; // interfaces and abstract contracts
    fs.writeFileSync(path.join(outDir, `${name}.abi`), JSON.stringify(c.abi));
    fs.writeFileSync(path.join(outDir, `${name}.bin`), bytecode);
    fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify({ abi: c.abi, bytecode: `0x${bytecode}` }));
    fs.writeFileSync(path.join(outDir, 'full', `${name}.json`), JSON.stringify({
      contractName: name, sourceName: f, compiler: `solc-js ${solc.version()}`, settings,
      abi: c.abi, bytecode: `0x${bytecode}`, deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      methodIdentifiers: c.evm.methodIdentifiers,
    }, null, 2));
    n++;
  }
}
fs.writeFileSync(stamp, fingerprint);
console.log(`contracts build: ${n} contract(s) compiled with solc ${solc.version()} in ${Date.now() - started} ms into ${outDir}`);
