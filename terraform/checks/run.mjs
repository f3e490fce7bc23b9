#!/usr/bin/env node
// Entry point of the Terraform offline checks (./mkt test): parses every .tf under terraform/ and
// checks it against the sources of truth; exits 1 with file:line messages on any finding.
// Usage: node terraform/checks/run.mjs [--only=check1,check2] [--tf-root=DIR]
//        [--app-properties=FILE] [--functions-json=FILE] [--queues-json=FILE] [--worker-src=DIR]
//        [--worker-dockerfile=FILE] [--functions-src=DIR]
// (the path options point the checks at fixtures; without them they check the real tree).
import { resolve } from 'node:path';
import { CHECKS, runChecks } from './all.mjs';
import { defaultPaths, formatFinding } from './lib.mjs';

const opt = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = opt('only')?.split(',');
const paths = defaultPaths();
for (const [flag, key] of [['tf-root', 'tfRoot'], ['app-properties', 'appProperties'], ['functions-json', 'functionsJson'], ['queues-json', 'queuesJson'], ['worker-src', 'workerSrc'], ['worker-dockerfile', 'workerDockerfile'], ['functions-src', 'functionsSrc']]) {
  if (opt(flag)) paths[key] = resolve(opt(flag));
}
const unknown = (only || []).filter((n) => !CHECKS[n]);
if (unknown.length) {
  console.error(`unknown check(s): ${unknown.join(', ')}; known: ${Object.keys(CHECKS).join(', ')}`);
  process.exit(2);
}
const t0 = Date.now();
try {
  const { tree, findings: all } = await runChecks(paths, only || Object.keys(CHECKS));
  const warnings = all.filter((f) => f.severity === 'warning');
  const findings = all.filter((f) => f.severity !== 'warning');
  for (const w of warnings) console.error(formatFinding(w));
  const files = [...tree.modules.values()].reduce((n, m) => n + m.files.length, 0);
  const ms = Date.now() - t0;
  if (findings.length) {
    for (const f of findings) console.error(formatFinding(f));
    console.error(`terraform checks: ${findings.length} problem(s) in ${files} .tf files (${ms} ms)`);
    process.exit(1);
  }
  console.log(`terraform checks: ${Object.keys(CHECKS).filter((n) => !only || only.includes(n)).join(', ')}: ok (${files} .tf files in ${tree.modules.size} modules, ${ms} ms)`);
} catch (e) {
  console.error(`terraform checks could not run: ${e.stack || e}`);
  process.exit(2);
}
