// Names shared with the code come from the sources of truth, not from hand typing:
// queues.json (queue names, keys, DLQs, visibility) and functions.json (function names =
// QUARKUS_FUNQY_EXPORT, handler, triggers, environment). Checks both files against each other, the
// environments' jsondecode(file(...)) paths, and every literal in the Terraform that names a
// queue, a queue key, a function, a route or an environment variable.
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { finding, lineAt, lineOf, unwrap } from './lib.mjs';

const CHECK = 'names';

export function loadSpecs(paths) {
  const out = { findings: [] };
  for (const [key, path] of [['queues', paths.queuesJson], ['functions', paths.functionsJson]]) {
    const rel = relative(paths.repoRoot, path);
    if (!existsSync(path)) {
      out.findings.push(finding(CHECK, rel, 1, `${rel} is missing: it is the source of truth Terraform reads`));
      continue;
    }
    const text = readFileSync(path, 'utf8');
    try {
      out[key] = { rel, text, json: JSON.parse(text) };
    } catch (e) {
      out.findings.push(finding(CHECK, rel, 1, `${rel} is not valid JSON: ${e.message}`));
    }
  }
  return out;
}

export function checkNames(tree, paths) {
  const specs = loadSpecs(paths);
  const out = [...specs.findings];
  if (!specs.queues || !specs.functions) return out;
  const q = specs.queues;
  const fn = specs.functions;
  const queueKeys = new Set(q.json.queues.map((x) => x.key));
  const queueByKey = new Map(q.json.queues.map((x) => [x.key, x]));
  const dlqSuffix = q.json.dlqSuffix || '-dlq';
  const queueNames = new Set(q.json.queues.flatMap((x) => [x.name, x.name + dlqSuffix]));
  const fnNames = new Set(fn.json.functions.map((f) => f.name));
  const routes = fn.json.functions.flatMap((f) => f.routes || []);
  const envNames = new Set(fn.json.environment || []);

  // The two sources of truth against each other.
  for (const f of fn.json.functions) {
    const at = lineOf(fn.text, `"name": "${f.name}"`);
    if (f.trigger === 'sqs') {
      const queue = queueByKey.get(f.queueKey);
      if (!queue) {
        out.push(finding(CHECK, fn.rel, at, `function "${f.name}" is triggered by queueKey "${f.queueKey}", which ${q.rel} does not define (keys: ${[...queueKeys].join(', ')})`));
      } else if (f.timeoutSeconds > queue.visibilityTimeoutSeconds) {
        out.push(finding(CHECK, fn.rel, at, `function "${f.name}" may run ${f.timeoutSeconds} s but queue ${queue.name} hides a message for only ${queue.visibilityTimeoutSeconds} s: AWS refuses the event source mapping; raise visibilityTimeoutSeconds in ${q.rel} or lower timeoutSeconds`));
      }
    } else if (f.trigger === 'api') {
      if (!(f.routes || []).length) out.push(finding(CHECK, fn.rel, at, `API function "${f.name}" has no routes`));
    } else {
      out.push(finding(CHECK, fn.rel, at, `function "${f.name}" has trigger "${f.trigger}": use "api" or "sqs"`));
    }
  }
  if (!envNames.has('QUARKUS_FUNQY_EXPORT')) {
    out.push(finding(CHECK, fn.rel, lineOf(fn.text, '"environment"'), 'environment must list QUARKUS_FUNQY_EXPORT: each Lambda exports its function through it'));
  }

  for (const mod of tree.modules.values()) {
    for (const file of mod.files) {
      const text = file.text;
      // Hand-typed queue names drift from queues.json.
      for (const m of text.matchAll(/"([A-Za-z0-9_-]+)"/g)) {
        if (queueNames.has(m[1])) {
          out.push(finding(CHECK, file.rel, lineAt(text, m.index), `queue name "${m[1]}" typed by hand: take it from queues.json (module queues gets the decoded file)`));
        }
      }
      // Queue keys used as literal indexes or lists must exist in queues.json.
      for (const m of text.matchAll(/queues\[\s*"([^"]+)"\s*\]/g)) {
        if (!queueKeys.has(m[1])) out.push(finding(CHECK, file.rel, lineAt(text, m.index), `queue key "${m[1]}" is not in queues.json (keys: ${[...queueKeys].join(', ')})`));
      }
      for (const m of text.matchAll(/^\s*([a-z_]*(queue|send)_keys)\s*=\s*\[((?:\s*"[^"]*"\s*,?)*\s*)\]/gm)) {
        for (const k of m[3].matchAll(/"([^"]+)"/g)) {
          if (!queueKeys.has(k[1])) out.push(finding(CHECK, file.rel, lineAt(text, m.index), `${m[1]}: queue key "${k[1]}" is not in queues.json (keys: ${[...queueKeys].join(', ')})`));
        }
      }
      // Routes typed in Terraform must be (prefixes of) routes of functions.json.
      for (const m of text.matchAll(/(?<!\\)"((GET|POST|PUT|PATCH|DELETE) \/[^"\\]*)"/g)) {
        if (!routes.some((r) => r.startsWith(m[1]))) {
          out.push(finding(CHECK, file.rel, lineAt(text, m.index), `route "${m[1]}" is not in functions.json (routes: ${routes.join(', ')})`));
        }
      }
      // Maps keyed by function name (secret_access = { settle = [...] }) must use real names.
      for (const m of text.matchAll(/^\s*secret_access\s*=\s*\{([^}]*)\}/gm)) {
        for (const k of m[1].matchAll(/(^|[{,\s])([A-Za-z0-9_]+)\s*=/g)) {
          if (!fnNames.has(k[2])) out.push(finding(CHECK, file.rel, lineAt(text, m.index), `secret_access names function "${k[2]}", which functions.json does not define (${[...fnNames].join(', ')})`));
        }
      }
    }
    for (const r of mod.resources.values()) {
      if (r.type === 'aws_sqs_queue' && typeof r.body.name === 'string' && !r.body.name.includes('${')) {
        out.push(finding(CHECK, r.file.rel, lineOf(r.file.text, `resource "aws_sqs_queue" "${r.name}"`, 'name'),
          `aws_sqs_queue.${r.name} has a literal name "${r.body.name}": derive it from queues.json`));
      }
    }
    if ([...mod.resources.values()].some((r) => r.type === 'aws_lambda_function')) {
      out.push(...checkFunctionsModule(mod, { fn, envNames, fnNames, queueKeys }));
    }
    if (mod.moduleCalls.size > 0) out.push(...checkEnvironment(tree, mod, paths));
  }
  return out;
}

function checkFunctionsModule(mod, { fn, envNames, fnNames, queueKeys }) {
  const out = [];
  const lambdas = [...mod.resources.values()].filter((r) => r.type === 'aws_lambda_function');
  for (const l of lambdas) {
    const header = `resource "aws_lambda_function" "${l.name}"`;
    const h = l.body.handler;
    if (typeof h === 'string' && !h.includes('${') && h !== fn.json.handler) {
      out.push(finding(CHECK, l.file.rel, lineOf(l.file.text, header, 'handler'), `handler "${h}" differs from functions.json's "${fn.json.handler}": use var.spec.handler`));
    } else if (typeof h === 'string' && h.includes('${') && !/spec\.handler/.test(h)) {
      out.push(finding(CHECK, l.file.rel, lineOf(l.file.text, header, 'handler'), 'handler does not come from functions.json (var.spec.handler)'));
    }
    if (l.body.for_each === undefined || !String(l.body.for_each).includes('${')) {
      out.push(finding(CHECK, l.file.rel, lineOf(l.file.text, header), `aws_lambda_function.${l.name} must be created for_each function of functions.json, not one by one`));
    }
  }
  const text = mod.files.map((f) => f.text).join('\n');
  if (!/QUARKUS_FUNQY_EXPORT\s*=\s*(n|each\.key|f\.name|each\.value\.name)\b/.test(text.replace(/QUARKUS_FUNQY_EXPORT\s*=\s*""/g, ''))) {
    const f = lambdas[0]?.file || mod.files[0];
    out.push(finding(CHECK, f.rel, lineOf(f.text, 'QUARKUS_FUNQY_EXPORT'), 'QUARKUS_FUNQY_EXPORT is not set to each function\'s own name: every Lambda would export the same function'));
  }

  const envLocal = mod.locals.get('environment_values');
  if (!envLocal) {
    const f = lambdas[0]?.file || mod.files[0];
    out.push(finding(CHECK, f.rel, 1, 'the functions module has no local "environment_values" map: the environment names of functions.json must each get a value there'));
  } else {
    const { file, value } = envLocal;
    const keys = new Set(typeof value === 'object' && value ? Object.keys(value) : objectKeys(unwrap(value) || ''));
    for (const k of envNames) {
      if (!keys.has(k)) out.push(finding(CHECK, file.rel, lineOf(file.text, 'environment_values'), `functions.json lists environment variable ${k}, but local.environment_values gives it no value`));
    }
    for (const k of keys) {
      if (!envNames.has(k)) out.push(finding(CHECK, file.rel, lineOf(file.text, 'environment_values', new RegExp(`\\b${k}\\s*=`)), `environment variable ${k} is not in functions.json's "environment": add it there (the code's contract) or drop it here`));
    }
  }
  for (const [name, { file, value }] of mod.locals) {
    if (!name.startsWith('default_')) continue;
    const keys = typeof value === 'object' && value ? Object.keys(value) : objectKeys(unwrap(value) || '');
    for (const k of keys) {
      if (!fnNames.has(k)) out.push(finding(CHECK, file.rel, lineOf(file.text, `${name} =`, new RegExp(`\\b${k}\\s*=`)), `local.${name} names function "${k}", which functions.json does not define (${[...fnNames].join(', ')})`));
    }
    if (name === 'default_sends' && value && typeof value === 'object') {
      for (const [k, list] of Object.entries(value)) {
        for (const key of [].concat(list)) {
          if (!queueKeys.has(key)) out.push(finding(CHECK, file.rel, lineOf(file.text, `${name} =`, new RegExp(`\\b${k}\\s*=`)), `local.${name}.${k}: queue key "${key}" is not in queues.json`));
        }
      }
    }
  }
  return out;
}

// Keys of an HCL object constructor text "{ A = x, B = y }" (hcl2json leaves some as expressions).
function objectKeys(expr) {
  return [...expr.matchAll(/(^|[{,\n]\s*)([A-Za-z_][A-Za-z0-9_]*)\s*=/g)].map((m) => m[2]);
}

// An environment must decode the real queues.json / functions.json and hand them to the modules.
function checkEnvironment(tree, mod, paths) {
  const out = [];
  const expected = { queues: paths.queuesJson, functions: paths.functionsJson };
  const decoded = {};
  for (const [name, { file, value }] of mod.locals) {
    const m = /jsondecode\(file\("([^"]+)"\)\)/.exec(String(value));
    if (!m) continue;
    const path = resolveTfPath(m[1], mod);
    for (const [kind, want] of Object.entries(expected)) {
      if (path && path.endsWith(`${kind}.json`)) {
        decoded[kind] = name;
        if (resolve(path) !== resolve(want)) {
          out.push(finding(CHECK, file.rel, lineOf(file.text, new RegExp(`^\\s*${name}\\s*=`, 'm')),
            `local.${name} reads ${path}, not the source of truth ${relative(tree.repoRoot, want)}`));
        }
      }
    }
  }
  const first = mod.files[0];
  for (const [kind, moduleName] of [['queues', 'queues'], ['functions', 'functions']]) {
    const call = mod.moduleCalls.get(moduleName);
    if (!call) continue;
    const header = `module "${moduleName}"`;
    if (!decoded[kind]) {
      out.push(finding(CHECK, call.file.rel, lineOf(call.file.text, header),
        `this environment does not decode ${kind}.json (locals { x = jsondecode(file(".../${relative(tree.repoRoot, expected[kind])}")) }): module "${moduleName}" must get its names from it`));
    } else if (!String(call.body.spec || '').includes(`local.${decoded[kind]}`)) {
      out.push(finding(CHECK, call.file.rel, lineOf(call.file.text, header, 'spec'),
        `module "${moduleName}" must get spec = local.${decoded[kind]} (the decoded ${kind}.json)`));
    }
    if (kind === 'functions' && decoded.functions && !String(call.body.package_path || '').includes(`local.${decoded.functions}.artifact`)) {
      out.push(finding(CHECK, call.file.rel, lineOf(call.file.text, header, 'package_path'),
        `module "functions": package_path must be the build's artifact named in functions.json (\${local.${decoded.functions}.artifact}), not a path typed by hand`));
    }
  }
  return first ? out : out;
}

// Resolves "${path.module}/…" and "${local.x}/…" (one level) against the environment directory.
function resolveTfPath(p, mod) {
  let s = p;
  for (let i = 0; i < 3 && s.includes('${'); i++) {
    s = s.replace(/\$\{path\.(module|root)\}/g, mod.dir);
    s = s.replace(/\$\{local\.([A-Za-z0-9_]+)\}/g, (_, n) => {
      const v = mod.locals.get(n)?.value;
      return typeof v === 'string' ? v.replace(/^"|"$/g, '') : `\${local.${n}}`;
    });
  }
  return s.includes('${') ? null : resolve(mod.dir, s);
}
