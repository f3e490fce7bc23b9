// Every variable has a type and a description; every output a description, and an output built
// from a sensitive value is marked sensitive (terraform plan refuses it otherwise). The type is
// what lets `terraform validate` reject a wrong value; the description is the documentation.
import { finding, isTrue, lineOf, referencesIn } from './lib.mjs';
import { childModule } from './references.mjs';

const CHECK = 'variables';
// Attributes the AWS/random providers mark sensitive in their schemas.
const SENSITIVE_ATTRS = /^(random_password\.[^.]+\.result|aws_ssm_parameter\.[^.]+\.value|aws_secretsmanager_secret_version\.[^.]+\.secret_string|aws_rds_cluster\.[^.]+\.master_password|aws_db_instance\.[^.]+\.password)/;

export async function checkVariables(tree) {
  const out = [];
  for (const mod of tree.modules.values()) {
    for (const [name, { file, body }] of mod.variables) {
      const line = lineOf(file.text, `variable "${name}"`);
      if (!('type' in body)) out.push(finding(CHECK, file.rel, line, `variable "${name}" has no type: add type = string/number/bool/list(...)/object({...})`));
      if (typeof body.description !== 'string' || body.description.trim() === '') {
        out.push(finding(CHECK, file.rel, line, `variable "${name}" has no description: say what it is and what a caller should set`));
      }
    }
    for (const [name, { file, body }] of mod.outputs) {
      const line = lineOf(file.text, `output "${name}"`);
      if (typeof body.description !== 'string' || body.description.trim() === '') {
        out.push(finding(CHECK, file.rel, line, `output "${name}" has no description`));
      }
      if (isTrue(body.sensitive)) continue;
      const refs = await referencesIn(file.rel, String(body.value ?? ''));
      const secret = refs.find((r) => isSensitiveRef(tree, mod, r));
      if (secret) {
        out.push(finding(CHECK, file.rel, line, `output "${name}" uses ${secret}, which is sensitive: add sensitive = true (plan fails otherwise) or output a non-secret value`));
      }
    }
  }
  return out;
}

function isSensitiveRef(tree, mod, ref) {
  if (SENSITIVE_ATTRS.test(ref)) return true;
  const [root, a, b] = ref.split('.');
  if (root === 'var') return isTrue(mod.variables.get(a)?.body?.sensitive);
  if (root === 'module' && b) {
    const call = mod.moduleCalls.get(a);
    const child = call && childModule(tree, mod, call);
    return Boolean(child && isTrue(child.outputs.get(b)?.body?.sensitive));
  }
  return false;
}
