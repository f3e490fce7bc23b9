// Every event source mapping reports batch item failures: without it one poison record fails (and
// redelivers) its whole batch, or with funqy's reporting off is silently dropped.
import { allResources, finding, lineOf } from './lib.mjs';

const CHECK = 'event-source-mappings';

export function checkEventSourceMappings(tree) {
  const out = [];
  for (const { name, file, body } of allResources(tree, 'aws_lambda_event_source_mapping')) {
    const types = body.function_response_types;
    const ok = Array.isArray(types) && types.includes('ReportBatchItemFailures');
    if (!ok) {
      out.push(finding(CHECK, file.rel,
        lineOf(file.text, `resource "aws_lambda_event_source_mapping" "${name}"`, types ? 'function_response_types' : null),
        `aws_lambda_event_source_mapping.${name} does not report batch item failures: set function_response_types = ["ReportBatchItemFailures"]`));
    }
  }
  return out;
}
