locals {
  # Keyed by the queue key of queues.json ("match", "tasks", …): the code and the other modules
  # address queues by key, the names stay exactly those of queues.json because the code builds
  # queue URLs as FEDMARKET_QUEUE_URL_PREFIX + name.
  queues = { for q in var.spec.queues : q.key => q }
}

resource "aws_sqs_queue" "dlq" {
  for_each = local.queues

  name                      = "${each.value.name}${var.spec.dlqSuffix}"
  message_retention_seconds = var.dlq_retention_seconds
  sqs_managed_sse_enabled   = true

  tags = merge(var.tags, { "fedmarket:queue" = each.key, "fedmarket:role" = "dlq" })
}

resource "aws_sqs_queue" "this" {
  for_each = local.queues

  name                       = each.value.name
  visibility_timeout_seconds = each.value.visibilityTimeoutSeconds
  message_retention_seconds  = var.message_retention_seconds
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = each.value.maxReceiveCount
  })

  tags = merge(var.tags, {
    "fedmarket:queue"    = each.key
    "fedmarket:consumer" = each.value.consumer
  })
}

# Only its own work queue may dead-letter into a DLQ, so a misconfigured queue elsewhere cannot
# bury messages in ours.
resource "aws_sqs_queue_redrive_allow_policy" "this" {
  for_each = local.queues

  queue_url = aws_sqs_queue.dlq[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this[each.key].arn]
  })
}

# A message in a DLQ is work that failed maxReceiveCount times: someone has to look.
resource "aws_cloudwatch_metric_alarm" "dlq" {
  for_each = local.queues

  alarm_name          = "${aws_sqs_queue.dlq[each.key].name}-not-empty"
  alarm_description   = "Messages of ${each.value.name} were dead-lettered after ${each.value.maxReceiveCount} receives: inspect, fix, then redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq[each.key].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions

  tags = var.tags
}
