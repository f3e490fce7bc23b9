// The environment Terraform gives the Lambdas (functions.json "environment", each name valued in
// modules/functions) against what functions/src/main/resources/application.properties reads:
// a variable set but never read is a typo or dead config; a variable read but not set means the
// Lambda runs on AWS with its local default (127.0.0.1 …) or fails at start.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { finding, lineOf, warning } from './lib.mjs';
import { loadSpecs } from './names.mjs';

const CHECK = 'app-properties';

// Set by the Lambda runtime itself (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
const LAMBDA_PROVIDED = /^(AWS_REGION|AWS_DEFAULT_REGION|AWS_EXECUTION_ENV|AWS_LAMBDA_[A-Z_]+|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_XRAY_[A-Z_]+|_HANDLER|_X_AMZN_TRACE_ID|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR|TZ|LANG|PATH|LD_LIBRARY_PATH)$/;

/** Properties of the default and %prod profiles: [{key, value, line}]. */
export function parseProperties(text) {
  const out = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    const start = i;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i].trimStart();
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith('!')) continue;
    const m = /^((?:\\.|[^=:\s])+)\s*[=:\s]\s*(.*)$/.exec(t);
    if (!m) continue;
    const key = m[1];
    const profile = /^%([^.]+)\./.exec(key)?.[1] || null;
    if (profile && profile !== 'prod') continue;
    out.push({ key, value: m[2], line: start + 1, profile });
  }
  return out;
}

/** The environment variable Quarkus/SmallRye Config maps to a property key. */
export function envFormOf(key) {
  const profile = /^%([^.]+)\.(.*)$/.exec(key);
  const base = (profile ? profile[2] : key).replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
  return profile ? `_${profile[1].toUpperCase()}_${base}` : base;
}

export function checkAppProperties(tree, paths) {
  const specs = loadSpecs(paths);
  if (!specs.functions) return specs.findings;
  const fn = specs.functions;
  const rel = relative(paths.repoRoot, paths.appProperties);
  if (!existsSync(paths.appProperties)) {
    return [finding(CHECK, fn.rel, lineOf(fn.text, '"environment"'),
      `${rel} does not exist (yet): cannot check that the functions read the environment variables Terraform sets; the functions module must provide it`)];
  }
  const text = readFileSync(paths.appProperties, 'utf8');
  const props = parseProperties(text);
  const set = new Set(fn.json.environment || []);

  const readRefs = new Map(); // env name -> {line, hasDefault}
  const keyForms = new Set();
  for (const p of props) {
    keyForms.add(envFormOf(p.key));
    for (const m of p.value.matchAll(/\$\{([A-Z_][A-Z0-9_]*)(:[^}]*)?\}/g)) {
      if (!readRefs.has(m[1])) readRefs.set(m[1], { line: p.line, hasDefault: m[2] !== undefined, key: p.key });
    }
  }

  const out = [];
  for (const name of set) {
    if (!readRefs.has(name) && !keyForms.has(name)) {
      out.push(finding(CHECK, fn.rel, lineOf(fn.text, '"environment"', `"${name}"`),
        `${name} is set on every Lambda (functions.json "environment") but ${rel} never reads it (no \${${name}} and no property it maps to): fix the name on one side`));
    }
  }
  for (const [name, { line, hasDefault, key }] of readRefs) {
    if (set.has(name) || LAMBDA_PROVIDED.test(name)) continue;
    out.push(finding(CHECK, rel, line,
      hasDefault
        ? `${key} reads \${${name}}, which Terraform does not set: on AWS the local default would be used; add ${name} to functions.json "environment" and give it a value in terraform/modules/functions (local.environment_values)`
        : `${key} reads \${${name}} without a default, and Terraform does not set it: the Lambda would fail at start; add it to functions.json "environment" and terraform/modules/functions`));
  }
  // A signing key packaged in function.zip is public (it is in the repository): on AWS the token
  // key must come from outside the zip.
  for (const p of props) {
    if (!/^smallrye\.jwt\.sign\.key(\.location)?$/.test(p.key)) continue;
    const overridden = props.some((o) => o.profile === 'prod' && o.key === `%prod.${p.key}`)
      || set.has(envFormOf(p.key));
    if (!overridden && !p.value.includes('${')) {
      out.push(warning(CHECK, rel, p.line,
        `${p.key}=${p.value} is packaged in function.zip and nothing overrides it on AWS (no %prod.${p.key}, no ${envFormOf(p.key)} in functions.json "environment"): every Lambda would sign tokens with a key anyone with the repository has; load the key from Secrets Manager (and list its secret in functions.json) before deploying`));
    }
  }
  return out;
}
