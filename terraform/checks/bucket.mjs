// Every S3 bucket has its public access blocked (all four switches), plus versioning and
// default encryption: models, updates and proof trails are private evidence.
import { allResources, finding, isTrue, lineOf, referencesIn } from './lib.mjs';

const CHECK = 'bucket';
const SWITCHES = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];

async function targets(tree, type) {
  const map = new Map(); // "<dir>|<bucket resource name>" -> {file, body, name}
  for (const r of allResources(tree, type)) {
    const refs = await referencesIn(r.file.rel, String(r.body.bucket || ''));
    const b = refs.map((x) => x.split('.')).find((p) => p[0] === 'aws_s3_bucket');
    if (b) map.set(`${r.mod.dir}|${b[1]}`, r);
  }
  return map;
}

export async function checkBuckets(tree) {
  const out = [];
  const pab = await targets(tree, 'aws_s3_bucket_public_access_block');
  const versioning = await targets(tree, 'aws_s3_bucket_versioning');
  const sse = await targets(tree, 'aws_s3_bucket_server_side_encryption_configuration');
  for (const { mod, name, file } of allResources(tree, 'aws_s3_bucket')) {
    const header = `resource "aws_s3_bucket" "${name}"`;
    const key = `${mod.dir}|${name}`;
    const block = pab.get(key);
    if (!block) {
      out.push(finding(CHECK, file.rel, lineOf(file.text, header),
        `aws_s3_bucket.${name} has no aws_s3_bucket_public_access_block: add one with all four switches true`));
    } else {
      for (const s of SWITCHES) {
        if (!isTrue(block.body[s])) {
          out.push(finding(CHECK, block.file.rel,
            lineOf(block.file.text, `resource "aws_s3_bucket_public_access_block" "${block.name}"`, s),
            `public access block of aws_s3_bucket.${name}: ${s} must be true`));
        }
      }
    }
    const v = versioning.get(key);
    const status = v && (v.body.versioning_configuration || [])[0]?.status;
    if (status !== 'Enabled') {
      out.push(finding(CHECK, v ? v.file.rel : file.rel, v ? lineOf(v.file.text, `"${v.name}"`, 'status') : lineOf(file.text, header),
        `aws_s3_bucket.${name} is not versioned: add aws_s3_bucket_versioning with status = "Enabled"`));
    }
    if (!sse.has(key)) {
      out.push(finding(CHECK, file.rel, lineOf(file.text, header),
        `aws_s3_bucket.${name} has no default encryption: add aws_s3_bucket_server_side_encryption_configuration`));
    }
  }
  return out;
}
