variable "spec" {
  description = "The decoded shared/src/main/resources/io/fedmarket/queues.json (jsondecode(file(...)) in the environment): the one source of truth for queue names, DLQ suffix, receive counts and visibility timeouts, shared with the Java code."
  type = object({
    dlqSuffix = string
    queues = list(object({
      key                      = string
      name                     = string
      consumer                 = string
      visibilityTimeoutSeconds = number
      maxReceiveCount          = number
      description              = string
    }))
  })
}

variable "message_retention_seconds" {
  description = "How long an unconsumed message stays in a work queue (SQS maximum is 1209600 = 14 days)."
  type        = number
  default     = 345600
}

variable "dlq_retention_seconds" {
  description = "How long a dead letter stays in a DLQ for inspection and redrive; the maximum, so nothing is lost before someone looks."
  type        = number
  default     = 1209600
}

variable "tags" {
  description = "Tags added to every queue."
  type        = map(string)
  default     = {}
}

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic) notified when a DLQ holds messages; empty = alarms without notification."
  type        = list(string)
  default     = []
}
