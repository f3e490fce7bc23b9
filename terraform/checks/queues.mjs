// Every SQS queue either dead-letters into a DLQ through a redrive policy (with maxReceiveCount)
// or is itself the DLQ of one; every queue is encrypted.
import { allResources, finding, isTrue, lineOf, referencesIn } from './lib.mjs';

const CHECK = 'queues';

export async function checkQueues(tree) {
  const out = [];
  const queues = allResources(tree, 'aws_sqs_queue');
  const dlqTargets = new Set(); // "<module dir>|aws_sqs_queue.<name>"
  const redriven = new Set();

  const noteRedrive = async (mod, file, owner, expr, header) => {
    const refs = await referencesIn(file.rel, expr);
    const target = refs.map((r) => r.split('.')).find((p) => p[0] === 'aws_sqs_queue');
    if (!/deadLetterTargetArn/.test(expr) || !target) {
      out.push(finding(CHECK, file.rel, lineOf(file.text, header, 'redrive_policy'),
        `${owner}: redrive_policy must name deadLetterTargetArn = aws_sqs_queue.<dlq>.arn`));
      return;
    }
    if (!/maxReceiveCount/.test(expr)) {
      out.push(finding(CHECK, file.rel, lineOf(file.text, header, 'redrive_policy'),
        `${owner}: redrive_policy has no maxReceiveCount: take it from queues.json`));
    }
    dlqTargets.add(`${mod.dir}|aws_sqs_queue.${target[1]}`);
  };

  for (const { mod, name, file, body } of queues) {
    const header = `resource "aws_sqs_queue" "${name}"`;
    if (typeof body.redrive_policy === 'string') {
      redriven.add(`${mod.dir}|aws_sqs_queue.${name}`);
      await noteRedrive(mod, file, `aws_sqs_queue.${name}`, body.redrive_policy, header);
    }
    if (!isTrue(body.sqs_managed_sse_enabled) && !body.kms_master_key_id) {
      out.push(finding(CHECK, file.rel, lineOf(file.text, header),
        `aws_sqs_queue.${name} is not encrypted: set sqs_managed_sse_enabled = true (or kms_master_key_id)`));
    }
  }
  for (const { mod, name, file, body } of allResources(tree, 'aws_sqs_queue_redrive_policy')) {
    const header = `resource "aws_sqs_queue_redrive_policy" "${name}"`;
    const refs = await referencesIn(file.rel, String(body.queue_url || ''));
    const src = refs.map((r) => r.split('.')).find((p) => p[0] === 'aws_sqs_queue');
    if (src) redriven.add(`${mod.dir}|aws_sqs_queue.${src[1]}`);
    await noteRedrive(mod, file, `aws_sqs_queue_redrive_policy.${name}`, String(body.redrive_policy || ''), header);
  }
  for (const { mod, name, file } of queues) {
    const key = `${mod.dir}|aws_sqs_queue.${name}`;
    if (!redriven.has(key) && !dlqTargets.has(key)) {
      out.push(finding(CHECK, file.rel, lineOf(file.text, `resource "aws_sqs_queue" "${name}"`),
        `aws_sqs_queue.${name} has no DLQ: add redrive_policy = jsonencode({ deadLetterTargetArn = …, maxReceiveCount = … })`));
    }
  }
  return out;
}
