// functions.json against the functions the build actually exports: every name must be a @Funq
// function in functions/src/main/java (a Lambda exporting a missing name refuses to start), and
// every @Funq function must be deployed by functions.json.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { finding, lineOf, warning } from './lib.mjs';
import { loadSpecs } from './names.mjs';

const CHECK = 'funq';

function javaFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) javaFiles(p, out);
    else if (name.endsWith('.java')) out.push(p);
  }
  return out;
}

/** Exported funqy function names: @Funq("name"), or the method name under a bare @Funq. */
export function funqFunctions(srcDir) {
  const found = new Map(); // name -> {file, line}
  for (const f of javaFiles(srcDir)) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/@Funq\s*(?:\(\s*(?:value\s*=\s*)?"([^"]+)"\s*\))?\s*(?:@[\w.]+(?:\([^)]*\))?\s*)*(?:public\s+)?(?:[\w<>,.?\s[\]]+?)\s+(\w+)\s*\(/g)) {
      const name = m[1] || m[2];
      if (!found.has(name)) found.set(name, { file: f, line: text.slice(0, m.index).split('\n').length });
    }
  }
  return found;
}

export function checkFunq(tree, paths) {
  const specs = loadSpecs(paths);
  if (!specs.functions) return specs.findings;
  const fn = specs.functions;
  const srcDir = paths.functionsSrc;
  if (!srcDir || !existsSync(srcDir)) {
    return [warning(CHECK, fn.rel, 1, `${srcDir ? relative(paths.repoRoot, srcDir) : 'the functions sources'} not found: cannot check that functions.json names exported @Funq functions`)];
  }
  const code = funqFunctions(srcDir);
  const out = [];
  const declared = new Set(fn.json.functions.map((f) => f.name));
  for (const f of fn.json.functions) {
    if (!code.has(f.name)) {
      out.push(warning(CHECK, fn.rel, lineOf(fn.text, `"name": "${f.name}"`),
        `functions.json deploys "${f.name}", but no @Funq("${f.name}") exists under ${relative(paths.repoRoot, srcDir)} (yet): that Lambda would refuse to start`));
    }
  }
  for (const [name, where] of code) {
    if (!declared.has(name)) {
      out.push(finding(CHECK, relative(paths.repoRoot, where.file), where.line,
        `@Funq function "${name}" is not in functions.json: it would never be deployed (add an entry with its trigger, memory and timeout)`));
    }
  }
  return out;
}
