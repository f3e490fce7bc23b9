// The environment the launch template gives the worker container (module "gpu_worker" calls plus
// what modules/gpu_worker adds) against the names the worker's Java code reads. Until the worker
// sources exist this only warns, so the check can land before the code does.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { finding, lineOf, warning } from './lib.mjs';

const CHECK = 'worker-env';

function javaFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) javaFiles(p, out);
    else if (name.endsWith('.java')) out.push(p);
  }
  return out;
}

/** Environment names the worker code mentions: FEDMARKET_* and AWS_REGION string literals. */
export function namesReadByWorker(srcDir) {
  const names = new Map(); // name -> {file, line}
  for (const f of javaFiles(srcDir)) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/"((?:FEDMARKET|AWS)_[A-Z0-9_]+)"/g)) {
      if (!names.has(m[1])) names.set(m[1], { file: f, line: text.slice(0, m.index).split('\n').length });
    }
  }
  return names;
}

/** S3 key prefixes in the worker code: putContent("p", …) and "p/" + … key builders. */
export function prefixesUsedByWorker(srcDir) {
  const found = new Map();
  for (const f of javaFiles(srcDir)) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/putContent\(\s*"([a-z][a-z0-9-]*)"|"([a-z][a-z0-9-]*)\/"\s*\+/g)) {
      const prefix = `${m[1] || m[2]}/`;
      if (!found.has(prefix)) found.set(prefix, { file: f, line: text.slice(0, m.index).split('\n').length });
    }
  }
  return found;
}

/** Whether any worker source file has a main method. */
export function hasMain(srcDir) {
  return javaFiles(srcDir).some((f) => /static\s+void\s+main\s*\(/.test(readFileSync(f, 'utf8')));
}

const envKeys = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [...String(v || '').matchAll(/([A-Z][A-Z0-9_]+)\s*=/g)].map((m) => m[1]));

export function checkWorkerEnv(tree, paths) {
  const out = [];
  const calls = [];
  for (const mod of tree.modules.values()) {
    for (const [name, call] of mod.moduleCalls) {
      if (String(call.body.source || '').replace(/\/+$/, '').endsWith('modules/gpu_worker')) calls.push({ mod, name, call });
    }
  }
  if (!calls.length) return out;
  const workerModule = [...tree.modules.values()].find((m) => m.dir.replace(/\/+$/, '').endsWith('modules/gpu_worker'));
  const added = workerModule ? envKeys(workerModule.locals.get('environment')?.value) : [];
  // Variables the module's boot script appends to the env file itself (e.g. the instance id).
  for (const f of tree.otherFiles.filter((p) => workerModule && p.startsWith(workerModule.dir) && p.endsWith('.tftpl'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/echo\s+"?([A-Z][A-Z0-9_]*)=/g)) added.push(m[1]);
  }

  const srcDir = paths.workerSrc;
  if (!srcDir || !existsSync(srcDir)) {
    const { call } = calls[0];
    return [warning(CHECK, call.file.rel, lineOf(call.file.text, `module "${calls[0].name}"`, 'environment'),
      `${srcDir ? relative(paths.repoRoot, srcDir) : 'the worker sources'} not found: the worker container's environment is not checked against what the worker reads`)];
  }
  const read = namesReadByWorker(srcDir);
  // While the worker has no entry point yet its configuration is still being written: report,
  // but do not fail the build on it.
  const inProgress = !hasMain(srcDir);
  for (const { name, call } of calls) {
    const set = new Set([...envKeys(call.body.environment), ...added]);
    // AWS_* are read by the AWS SDK itself (region, credentials), not by name in our code.
    const unread = [...set].filter((k) => !read.has(k) && !k.startsWith('AWS_'));
    if (inProgress && unread.length) {
      out.push(warning(CHECK, call.file.rel, lineOf(call.file.text, `module "${name}"`, 'environment'),
        `the worker has no main class yet; not yet read by code under ${relative(paths.repoRoot, srcDir)}: ${unread.join(', ')}`));
    } else {
      for (const k of unread) {
        out.push(finding(CHECK, call.file.rel, lineOf(call.file.text, `module "${name}"`, new RegExp(`\\b${k}\\b`)),
          `the worker container gets ${k}, but no code under ${relative(paths.repoRoot, srcDir)} mentions it: a typo, or the worker reads another name`));
      }
    }
    // S3 key prefixes the worker code writes or reads must be in the instance role's prefixes.
    const allowed = new Set(['bucket_read_prefixes', 'bucket_write_prefixes'].flatMap((v) => {
      const passed = call.body[v];
      if (Array.isArray(passed)) return passed;
      const d = workerModule?.variables.get(v)?.body?.default;
      return Array.isArray(d) ? d : [];
    }));
    if (allowed.size) {
      for (const [prefix, where] of prefixesUsedByWorker(srcDir)) {
        if (!allowed.has(prefix)) {
          out.push((inProgress ? warning : finding)(CHECK, relative(paths.repoRoot, where.file), where.line,
            `the worker uses S3 keys under ${prefix}, which the worker role may not touch (module "${name}" allows ${[...allowed].join(', ')}): add it to bucket_read_prefixes/bucket_write_prefixes or the worker gets AccessDenied`));
        }
      }
    }
    const unset = [...read].filter(([k]) => !set.has(k) && k.startsWith('FEDMARKET_'));
    if (unset.length) {
      const [, first] = unset[0];
      out.push(warning(CHECK, relative(paths.repoRoot, first.file), first.line,
        `the worker also reads ${unset.map(([k]) => k).join(', ')}, which module "${name}" (${call.file.rel}) does not set: on AWS they keep their defaults`));
    }
  }
  return out;
}

/**
 * gpu-worker/Dockerfile runs what the worker build produces: it copies target/dist, starts the
 * main class the worker sources define, and never runs as root.
 */
export function checkWorkerImage(tree, paths) {
  const dockerfile = paths.workerDockerfile;
  const rel = relative(paths.repoRoot, dockerfile);
  if (!existsSync(dockerfile)) return [finding('worker-image', rel, 1, `${rel} is missing: the GPU fleet has no image to run`)];
  const text = readFileSync(dockerfile, 'utf8');
  const out = [];
  const main = /"(io\.fedmarket\.[A-Za-z0-9_.]+)"\s*\]\s*$/m.exec(text);
  if (!/COPY\s+target\/dist\/?\s/.test(text)) {
    out.push(finding('worker-image', rel, 1, 'the image does not COPY target/dist (gpu-worker.jar + lib/): it would not run what the build produces'));
  }
  if (!main) {
    out.push(finding('worker-image', rel, lineOf(text, 'ENTRYPOINT'), 'ENTRYPOINT does not end with the worker main class (io.fedmarket.…)'));
  } else if (paths.workerSrc && existsSync(paths.workerSrc)) {
    const src = join(paths.workerSrc, ...main[1].split('.')) + '.java';
    if (!existsSync(src)) {
      // No main class anywhere yet: the worker is still being written, so only warn.
      const report = hasMain(paths.workerSrc) ? finding : warning;
      out.push(report('worker-image', rel, lineOf(text, main[1]), `ENTRYPOINT starts ${main[1]}, but ${relative(paths.repoRoot, src)} does not exist`));
    }
  } else {
    out.push(warning('worker-image', rel, lineOf(text, main[1]), `worker sources not found: cannot confirm that ${main[1]} exists`));
  }
  const users = [...text.matchAll(/^USER\s+(\S+)/gm)];
  if (!users.length || /^(root|0)(:|$)/.test(users[users.length - 1][1])) {
    out.push(finding('worker-image', rel, users.length ? lineOf(text, users[users.length - 1][0]) : 1, 'the image runs as root: end with USER <non-root uid>'));
  }
  return out;
}
