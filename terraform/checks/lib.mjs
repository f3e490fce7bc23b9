// Loading and navigating a Terraform tree for the offline checks: every .tf parsed with
// @cdktf/hcl2json (no terraform binary exists here), findings that name file and line.
import { parse, getReferencesInExpression } from '@cdktf/hcl2json';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHECKS_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(CHECKS_DIR, '..', '..');
export const SHARED_RESOURCES = join(REPO_ROOT, 'shared', 'src', 'main', 'resources', 'io', 'fedmarket');

/** Where the real tree and its sources of truth live; fixtures override some of these. */
export function defaultPaths() {
  return {
    repoRoot: REPO_ROOT,
    tfRoot: join(REPO_ROOT, 'terraform'),
    queuesJson: join(SHARED_RESOURCES, 'queues.json'),
    functionsJson: join(SHARED_RESOURCES, 'functions.json'),
    appProperties: join(REPO_ROOT, 'functions', 'src', 'main', 'resources', 'application.properties'),
    workerSrc: join(REPO_ROOT, 'gpu-worker', 'src', 'main', 'java'),
    functionsSrc: join(REPO_ROOT, 'functions', 'src', 'main', 'java'),
    workerDockerfile: join(REPO_ROOT, 'gpu-worker', 'Dockerfile'),
  };
}

/** One problem: where (file relative to the repo root, 1-based line) and what to do about it. */
export function finding(check, file, line, message) {
  return { check, file, line: line || 1, message, severity: 'error' };
}

/** A problem run.mjs prints but does not fail on (something another module still has to provide). */
export function warning(check, file, line, message) {
  return { ...finding(check, file, line, message), severity: 'warning' };
}

export function formatFinding(f) {
  return `${f.file}:${f.line}: [${f.check}]${f.severity === 'warning' ? ' warning:' : ''} ${f.message}`;
}

/**
 * 1-based line of the last needle, each needle searched after the previous one (e.g. the
 * resource header, then the attribute inside it); 1 when the first needle is absent, the line of
 * the deepest needle found otherwise. hcl2json keeps no positions, so lines come from the text.
 */
export function lineOf(text, ...needles) {
  let from = 0;
  let found = -1;
  for (const n of needles) {
    if (n === undefined || n === null || n === '') continue;
    const i = n instanceof RegExp ? regexIndex(text, n, from) : text.indexOf(n, from);
    if (i < 0) break;
    found = i;
    from = i + 1;
  }
  return found < 0 ? 1 : text.slice(0, found).split('\n').length;
}

function regexIndex(text, re, from) {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  g.lastIndex = from;
  const m = g.exec(text);
  return m ? m.index : -1;
}

/** 1-based line of a character offset. */
export function lineAt(text, offset) {
  return text.slice(0, offset).split('\n').length;
}

function listFiles(dir, accept, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === 'checks' || name === 'node_modules' || name.startsWith('.')) continue;
      listFiles(p, accept, out);
    } else if (accept(name)) {
      out.push(p);
    }
  }
  return out;
}

/**
 * Every directory under tfRoot holding .tf files is a Terraform module (environments are root
 * modules). Returns them keyed by absolute directory, each with its parsed files and an index of
 * its blocks.
 */
export async function loadTree(tfRoot, repoRoot) {
  if (!existsSync(tfRoot)) throw new Error(`no Terraform tree at ${tfRoot}`);
  const files = listFiles(tfRoot, (n) => n.endsWith('.tf'));
  const modules = new Map();
  const parsed = await Promise.all(files.map(async (path) => {
    const text = readFileSync(path, 'utf8');
    const rel = relative(repoRoot, path);
    try {
      return { path, rel, text, json: await parse(rel, text) };
    } catch (e) {
      return { path, rel, text, error: String(e.message || e) };
    }
  }));
  for (const { path, rel, text, json, error } of parsed) {
    const mod = moduleFor(modules, dirname(path));
    if (error) {
      mod.parseErrors.push({ rel, text, message: error });
      continue;
    }
    mod.files.push({ path, rel, text, json });
    index(mod, { path, rel, text, json });
  }
  return { tfRoot, repoRoot, modules, otherFiles: listFiles(tfRoot, (n) => /\.(tftpl|tfvars|example|sh)$/.test(n)) };
}

function moduleFor(modules, dir) {
  if (!modules.has(dir)) {
    modules.set(dir, {
      dir, files: [], parseErrors: [],
      variables: new Map(), locals: new Map(), outputs: new Map(),
      resources: new Map(), data: new Map(), moduleCalls: new Map(),
    });
  }
  return modules.get(dir);
}

function index(mod, file) {
  const j = file.json;
  for (const [name, blocks] of Object.entries(j.variable || {})) mod.variables.set(name, { file, body: blocks[0] });
  for (const [name, blocks] of Object.entries(j.output || {})) mod.outputs.set(name, { file, body: blocks[0] });
  for (const block of j.locals || []) {
    for (const [name, value] of Object.entries(block)) mod.locals.set(name, { file, value });
  }
  for (const [type, byName] of Object.entries(j.resource || {})) {
    for (const [name, blocks] of Object.entries(byName)) mod.resources.set(`${type}.${name}`, { type, name, file, body: blocks[0] });
  }
  for (const [type, byName] of Object.entries(j.data || {})) {
    for (const [name, blocks] of Object.entries(byName)) mod.data.set(`${type}.${name}`, { type, name, file, body: blocks[0] });
  }
  for (const [name, blocks] of Object.entries(j.module || {})) mod.moduleCalls.set(name, { file, body: blocks[0] });
}

/** Resources of a type in a module, as [{name, file, body}]. */
export function resourcesOfType(mod, type) {
  return [...mod.resources.values()].filter((r) => r.type === type);
}

/** All resources of a type across the tree, with their module. */
export function allResources(tree, type) {
  const out = [];
  for (const mod of tree.modules.values()) for (const r of resourcesOfType(mod, type)) out.push({ mod, ...r });
  return out;
}

/** Calls fn(string, path) for every string leaf (expressions included) under value. */
export function walkStrings(value, fn, path = []) {
  if (typeof value === 'string') fn(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, fn, [...path, i]));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walkStrings(v, fn, [...path, k]);
}

const refCache = new Map();
/**
 * Traversal references (var.x, aws_sqs_queue.this.arn, …) in one expression string: the parser's
 * own list, plus a scan of the expression code, because the parser leaves out whatever is inside
 * the body of a for-expression ({ for k, v in x : k => local.y[v] } yields only x).
 */
export async function referencesIn(rel, expr) {
  if (!expr.includes('${') && !expr.includes('%{')) return [];
  if (refCache.has(expr)) return refCache.get(expr);
  let refs = [];
  try {
    refs = (await getReferencesInExpression(rel, expr)).map((r) => r.value);
  } catch {
    // heredocs and other forms the parser cannot re-read: the scan below still covers them
  }
  const all = [...new Set([...refs, ...scanReferences(expr)])];
  refCache.set(expr, all);
  return all;
}

/** The code inside the ${…} / %{…} parts of a template, string literals removed. */
export function codeOf(template) {
  let code = '';
  let i = 0;
  const scanTemplate = (close) => {
    while (i < template.length) {
      const c = template[i];
      if (close && c === '\\') { i += 2; continue; }
      if (close && c === close) { i++; return; }
      if ((c === '$' || c === '%') && template[i + 1] === '{' && template[i - 1] !== c) {
        i += 2;
        scanExpr();
        code += ' ';
        continue;
      }
      i++;
    }
  };
  const scanExpr = () => {
    let depth = 0;
    while (i < template.length) {
      const c = template[i];
      if (c === '"') { i++; code += ' "" '; scanTemplate('"'); continue; }
      if (c === '{' || c === '(' || c === '[') depth++;
      if (c === '}' || c === ')' || c === ']') {
        if (depth === 0 && c === '}') { i++; return; }
        depth--;
      }
      code += c;
      i++;
    }
  };
  scanTemplate(null);
  return code;
}

const KEYWORD_REF = /(?<![\w.-])(var|local|data|module)\.[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*){0,2}/g;
const RESOURCE_REF = /(?<![\w.-])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?/g;

/** References found by scanning the expression code; for-expression variables are left out. */
export function scanReferences(expr) {
  const code = codeOf(expr);
  const bound = new Set();
  for (const m of code.matchAll(/\bfor\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b/g)) {
    bound.add(m[1]);
    if (m[2]) bound.add(m[2]);
  }
  const out = [];
  for (const m of code.matchAll(KEYWORD_REF)) {
    const parts = m[0].split('.');
    // data.T.N and module.M.O keep three segments; var.x / local.x two.
    out.push(parts.slice(0, parts[0] === 'data' || parts[0] === 'module' ? 3 : 2).join('.'));
  }
  for (const m of code.matchAll(RESOURCE_REF)) {
    if (bound.has(m[1]) || /^(var|local|data|module|each|count|self|path|terraform)$/.test(m[1])) continue;
    out.push(`${m[1]}.${m[2]}`);
  }
  return out;
}

/** The string inside ${…} when the whole value is one interpolation, else null. */
export function unwrap(expr) {
  if (typeof expr !== 'string') return null;
  const m = /^\$\{([\s\S]*)\}$/.exec(expr);
  return m ? m[1] : null;
}

/** true when a value is the literal true (HCL bools arrive as JSON booleans). */
export function isTrue(v) {
  return v === true || v === 'true';
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** The relative path of an absolute one, for messages. */
export function rel(repoRoot, path) {
  return relative(repoRoot, path);
}
