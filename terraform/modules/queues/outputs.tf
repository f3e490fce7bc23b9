output "queues" {
  description = "Work queues by queues.json key: name, ARN, URL and visibility timeout."
  value = {
    for k, q in aws_sqs_queue.this : k => {
      name                       = q.name
      arn                        = q.arn
      url                        = q.url
      visibility_timeout_seconds = q.visibility_timeout_seconds
    }
  }
}

output "dlqs" {
  description = "Dead-letter queues by queues.json key: name, ARN and URL (alarm on their depth)."
  value = {
    for k, q in aws_sqs_queue.dlq : k => {
      name = q.name
      arn  = q.arn
      url  = q.url
    }
  }
}

output "queue_url_prefix" {
  description = "What the code prepends to a queue name to get its URL (FEDMARKET_QUEUE_URL_PREFIX): https://sqs.<region>.amazonaws.com/<account>/."
  value       = trimsuffix(aws_sqs_queue.this[var.spec.queues[0].key].url, var.spec.queues[0].name)
}
