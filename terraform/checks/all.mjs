// The offline checks, in one list: each takes the parsed tree and the paths of the sources of truth.
import { checkAppProperties } from './appprops.mjs';
import { checkBuckets } from './bucket.mjs';
import { checkEventSourceMappings } from './esm.mjs';
import { checkFunq } from './funq.mjs';
import { checkIam } from './iam.mjs';
import { loadTree } from './lib.mjs';
import { checkNames } from './names.mjs';
import { checkQueues } from './queues.mjs';
import { checkReferences } from './references.mjs';
import { checkSecrets } from './secrets.mjs';
import { checkVariables } from './variables.mjs';
import { checkWorkerEnv, checkWorkerImage } from './workerenv.mjs';

export const CHECKS = {
  references: (tree) => checkReferences(tree),
  variables: (tree) => checkVariables(tree),
  names: (tree, paths) => checkNames(tree, paths),
  'app-properties': (tree, paths) => checkAppProperties(tree, paths),
  funq: (tree, paths) => checkFunq(tree, paths),
  queues: (tree) => checkQueues(tree),
  'event-source-mappings': (tree) => checkEventSourceMappings(tree),
  iam: (tree) => checkIam(tree),
  bucket: (tree) => checkBuckets(tree),
  secrets: (tree) => checkSecrets(tree),
  'worker-env': (tree, paths) => checkWorkerEnv(tree, paths),
  'worker-image': (tree, paths) => checkWorkerImage(tree, paths),
};

/** Runs the named checks (all by default) over the tree at paths.tfRoot; returns the findings. */
export async function runChecks(paths, names = Object.keys(CHECKS)) {
  const tree = await loadTree(paths.tfRoot, paths.repoRoot);
  const results = await Promise.all(names.map((n) => CHECKS[n](tree, paths)));
  return { tree, findings: results.flat() };
}
