// No secret literal anywhere in the Terraform tree: private keys (PEM or 32-byte hex), AWS access
// keys, passwords or tokens assigned as literals, RPC URLs carrying an API key. Key material put
// into a Terraform-managed secret version or parameter would also land in the state.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { finding, lineAt } from './lib.mjs';

const CHECK = 'secrets';

const PATTERNS = [
  [/-----BEGIN ([A-Z ]+ )?PRIVATE KEY-----/g, 'a PEM private key'],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, 'an AWS access key id'],
  [/(?<![0-9A-Za-z])0x[0-9a-fA-F]{64}(?![0-9A-Za-z])/g, 'a 32-byte hex value (an EVM private key?)'],
  [/\b(aws_secret_access_key|secret_key)\s*=\s*"[A-Za-z0-9/+=]{40}"/g, 'an AWS secret access key'],
  [/https?:\/\/[^\s"]*(infura\.io\/v3\/[0-9a-f]{32}|alchemy\.com\/v2\/[A-Za-z0-9_-]{20,}|quiknode\.pro\/[0-9a-f]{20,})/g, 'an RPC URL with its API key'],
  [/\b[A-Za-z_]*(password|passwd|secret|private_key|mnemonic|api_key|token)[A-Za-z_]*\s*=\s*"(?!\$\{)[^"\s]{6,}"/gi, 'a credential assigned as a literal'],
];

// Attributes whose value Terraform stores in state: key material must never flow into them.
const STATEFUL_SECRET = /\b(secret_string|secret_binary|value)\s*=\s*[^\n]*\b(var|local)\.[A-Za-z0-9_]*(private_key|mnemonic|signer_key|signing_key)/gi;

export function checkSecrets(tree) {
  const out = [];
  const files = [...[...tree.modules.values()].flatMap((m) => [...m.files.map((f) => f.path), ...m.parseErrors.map((p) => p.rel)]), ...tree.otherFiles];
  for (const path of new Set(files)) {
    const abs = path.startsWith('/') ? path : `${tree.repoRoot}/${path}`;
    const text = readFileSync(abs, 'utf8');
    const rel = relative(tree.repoRoot, abs);
    for (const [re, what] of PATTERNS) {
      const g = new RegExp(re.source, re.flags);
      let m;
      while ((m = g.exec(text))) {
        if (what === 'a credential assigned as a literal' && /description|_name|_arn|_id|_length|_type|_location|http_tokens|_limit/i.test(m[0].split('=')[0])) continue;
        out.push(finding(CHECK, rel, lineAt(text, m.index), `${what} in the source: put it in Secrets Manager out of band (see terraform/README.md), never in code`));
      }
    }
    const g = new RegExp(STATEFUL_SECRET.source, STATEFUL_SECRET.flags);
    let m;
    while ((m = g.exec(text))) {
      out.push(finding(CHECK, rel, lineAt(text, m.index), `key material would be stored in the Terraform state (${m[0].trim().slice(0, 60)}): create the secret empty and put its value with the AWS CLI`));
    }
  }
  return out;
}
