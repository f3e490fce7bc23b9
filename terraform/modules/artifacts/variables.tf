variable "bucket_name" {
  description = "Globally unique bucket name; the environments derive it from the `bucket` of queues.json plus environment and account, and hand it to the code as FEDMARKET_BUCKET."
  type        = string
}

variable "force_destroy" {
  description = "Whether `terraform destroy` may delete a non-empty bucket (dev only: proof trails are evidence in prod)."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept before it expires."
  type        = number
  default     = 30
}

variable "evidence_prefixes" {
  description = "Key prefixes holding per-round evidence (updates, checkpoints of the proof trails, task manifests, submissions, re-execution results): moved to STANDARD_IA, then expired."
  type        = list(string)
  default     = ["updates/", "checkpoints/", "tasks/", "submissions/", "reexec/"]
}

variable "evidence_retention_days" {
  description = "Days the evidence prefixes are kept: at least the dispute window plus time to settle a slash."
  type        = number
  default     = 180
}

variable "infrequent_access_after_days" {
  description = "Days after which updates and proof trails move to STANDARD_IA (rarely read once the round is verified)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to the bucket."
  type        = map(string)
  default     = {}
}
