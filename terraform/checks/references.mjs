// Every var., local., module., data. and resource reference resolves inside its module; every
// module call passes only variables the child declares and all the ones it requires; every
// module.X.Y names an output the child has.
import { resolve } from "node:path";
import { finding, lineOf, referencesIn, walkStrings } from './lib.mjs';

const CHECK = 'references';
const BUILTIN_ROOTS = new Set(['each', 'count', 'self', 'path', 'terraform']);
const MODULE_META = new Set(['source', 'version', 'providers', 'depends_on', 'count', 'for_each']);

export async function checkReferences(tree) {
  const out = [];
  for (const mod of tree.modules.values()) {
    for (const pe of mod.parseErrors) {
      out.push(finding('parse', pe.rel, parseErrorLine(pe.message), `does not parse: ${pe.message}`));
    }
    const iterators = dynamicIterators(mod);
    const used = new Set();
    for (const file of mod.files) {
      const exprs = [];
      walkStrings(file.json, (s) => { if (s.includes('${')) exprs.push(s); });
      const refLists = await Promise.all(exprs.map((e) => referencesIn(file.rel, e)));
      const seen = new Set();
      for (const refs of refLists) {
        for (const ref of refs) {
          used.add(ref.split('.').slice(0, 2).join('.'));
          const problem = resolveRef(tree, mod, ref, iterators);
          // The parser and the code scan may report one reference at different depths.
          if (!problem || seen.has(problem)) continue;
          seen.add(problem);
          out.push(finding(CHECK, file.rel, lineOfRef(file.text, ref), problem));
        }
      }
    }
    // Templates (templatefile) see only what is passed to them, so .tf references are complete.
    for (const [name, { file }] of mod.variables) {
      if (!used.has(`var.${name}`)) out.push(finding(CHECK, file.rel, lineOf(file.text, `variable "${name}"`), `variable "${name}" is declared but never used in ${relDir(tree, mod)}: drop it or wire it`));
    }
    for (const [name, { file }] of mod.locals) {
      if (!used.has(`local.${name}`)) out.push(finding(CHECK, file.rel, lineOf(file.text, new RegExp(`^\\s*${name}\\s*=`, 'm')), `local.${name} is defined but never used in ${relDir(tree, mod)}`));
    }
    out.push(...checkModuleCalls(tree, mod));
  }
  return out;
}

function parseErrorLine(message) {
  const m = /:(\d+),\d+/.exec(message);
  return m ? Number(m[1]) : 1;
}

// Names that dynamic blocks introduce (the block label, or its `iterator`), valid in content.
function dynamicIterators(mod) {
  const names = new Set();
  const visit = (v) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k === 'dynamic' && child && typeof child === 'object') {
          for (const [label, blocks] of Object.entries(child)) {
            names.add(label);
            for (const b of [].concat(blocks)) if (b && typeof b.iterator === 'string') names.add(b.iterator);
          }
        }
        visit(child);
      }
    }
  };
  for (const f of mod.files) visit(f.json);
  return names;
}

function resolveRef(tree, mod, ref, iterators) {
  const parts = ref.split('.');
  const [root, a, b] = parts;
  if (BUILTIN_ROOTS.has(root) || iterators.has(root)) return null;
  switch (root) {
    case 'var':
      return mod.variables.has(a) ? null : `var.${a} is not declared in ${relDir(tree, mod)} (add a variable "${a}" block to its variables.tf)`;
    case 'local':
      return mod.locals.has(a) ? null : `local.${a} is not defined in any locals block of ${relDir(tree, mod)}`;
    case 'data':
      return mod.data.has(`${a}.${b}`) ? null : `data.${a}.${b} is not declared in ${relDir(tree, mod)}`;
    case 'module': {
      const call = mod.moduleCalls.get(a);
      if (!call) return `module.${a} is not called in ${relDir(tree, mod)}`;
      const child = childModule(tree, mod, call);
      if (child && b !== undefined && !child.outputs.has(b)) {
        return `module.${a}.${b}: ${relDir(tree, child)} has no output "${b}" (outputs: ${[...child.outputs.keys()].join(', ')})`;
      }
      return null;
    }
    default:
      if (a === undefined) return null; // a bare name: a for-expression variable the parser kept
      return mod.resources.has(`${root}.${a}`) ? null : `${root}.${a} is not a resource declared in ${relDir(tree, mod)}`;
  }
}

function relDir(tree, mod) {
  return mod.dir.startsWith(tree.repoRoot) ? mod.dir.slice(tree.repoRoot.length + 1) : mod.dir;
}

export function childModule(tree, mod, call) {
  const src = call.body.source;
  if (typeof src !== 'string' || !src.startsWith('.')) return null;
  return tree.modules.get(resolve(mod.dir, src)) || null;
}

function checkModuleCalls(tree, mod) {
  const out = [];
  for (const [name, call] of mod.moduleCalls) {
    const header = `module "${name}"`;
    const src = call.body.source;
    const child = childModule(tree, mod, call);
    if (!child) {
      if (typeof src === 'string' && src.startsWith('.')) {
        out.push(finding(CHECK, call.file.rel, lineOf(call.file.text, header, 'source'),
          `module "${name}": source ${src} is not a module directory with .tf files (resolved to ${resolve(mod.dir, src)})`));
      }
      continue;
    }
    for (const arg of Object.keys(call.body)) {
      if (MODULE_META.has(arg)) continue;
      if (!child.variables.has(arg)) {
        out.push(finding(CHECK, call.file.rel, lineOf(call.file.text, header, new RegExp(`^\\s*${arg}\\s*=`, 'm')),
          `module "${name}" passes "${arg}", but ${relDir(tree, child)} declares no such variable`));
      }
    }
    for (const [v, decl] of child.variables) {
      if (!('default' in decl.body) && !(v in call.body)) {
        out.push(finding(CHECK, call.file.rel, lineOf(call.file.text, header),
          `module "${name}" does not set "${v}", which ${relDir(tree, child)} requires (no default)`));
      }
    }
  }
  return out;
}

function lineOfRef(text, ref) {
  const parts = ref.split('.');
  // Index steps come back as ".0" or ".key": search for the leading name segments only.
  for (let n = Math.min(parts.length, 3); n >= 2; n--) {
    const needle = parts.slice(0, n).join('.');
    const re = new RegExp(`(^|[^A-Za-z0-9_.])${needle.replace(/[.]/g, '\\.')}(?![A-Za-z0-9_-])`);
    const line = lineOf(text, re);
    if (line > 1 || re.test(text.split('\n')[0])) return line;
  }
  return 1;
}

