// No IAM statement allows every action on every resource, in policy documents, in jsonencode'd or
// literal JSON policies, or through the AWS admin managed policies.
import { finding, lineAt, lineOf, walkStrings } from './lib.mjs';

const CHECK = 'iam';
const ADMIN_POLICIES = /arn:aws:iam::aws:policy\/(AdministratorAccess|PowerUserAccess|IAMFullAccess)\b/;

const isWildAction = (a) => a === '*' || a === '*:*';
const asList = (v) => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []);

function statementsOf(doc) {
  const out = [...asList(doc.statement)];
  for (const d of asList(doc.dynamic?.statement)) for (const c of asList(d.content)) out.push(c);
  return out.filter((s) => s && typeof s === 'object');
}

export function checkIam(tree) {
  const out = [];
  for (const mod of tree.modules.values()) {
    for (const { type, name, file, body } of mod.data.values()) {
      if (type !== 'aws_iam_policy_document') continue;
      const header = `data "aws_iam_policy_document" "${name}"`;
      for (const st of statementsOf(body)) {
        if (st.effect === 'Deny') continue;
        const actions = asList(st.actions);
        const resources = asList(st.resources);
        if (actions.some(isWildAction) && resources.includes('*')) {
          out.push(finding(CHECK, file.rel, lineOf(file.text, header, st.sid ? `"${st.sid}"` : null, /actions\s*=\s*\[\s*"\*/),
            `data.aws_iam_policy_document.${name}${st.sid ? ` (${st.sid})` : ''} allows "*" on "*": name the actions and resources this role needs`));
        }
      }
    }
    for (const file of mod.files) {
      // JSON policies: jsonencode({...}) expressions and heredoc/literal JSON alike.
      walkStrings(file.json.resource || {}, (s, path) => {
        if (!/Action/.test(s)) return;
        for (const stmt of wildStatements(s)) {
          const where = path.slice(0, 2).join('.');
          const line = lineOf(file.text, `"${path[0]}" "${path[1]}"`, /"?Action"?\s*[=:]\s*(\[\s*)?"\*"/);
          out.push(finding(CHECK, file.rel, line, `${where}: a policy statement allows Action "*" on Resource "*" (${stmt.replace(/\s+/g, ' ').trim().slice(0, 80)})`));
        }
      });
      const re = ADMIN_POLICIES;
      const g = new RegExp(re.source, 'g');
      let m;
      while ((m = g.exec(file.text))) {
        out.push(finding(CHECK, file.rel, lineAt(file.text, m.index), `${m[1]} attached: grant only the actions this role needs`));
      }
    }
  }
  return out;
}

// Objects (innermost {...}) in a policy text that have both a wildcard action and resource.
function wildStatements(text) {
  const found = [];
  const actionRe = /"?Action"?\s*[=:]\s*(\[\s*)?"\*(:\*)?"/g;
  let m;
  while ((m = actionRe.exec(text))) {
    const start = text.lastIndexOf('{', m.index);
    let depth = 0;
    let end = text.length;
    for (let i = start; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) { end = i; break; }
    }
    const obj = text.slice(start, end + 1);
    if (/"?Effect"?\s*[=:]\s*"Deny"/.test(obj)) continue;
    if (/"?Resource"?\s*[=:]\s*(\[\s*)?"\*"/.test(obj)) found.push(obj);
  }
  return found;
}
