variable "name" {
  description = "Name prefix of the worker fleet's resources (e.g. fedmarket-dev)."
  type        = string
}

variable "region" {
  description = "AWS region (the container's AWS_REGION, ECR registry and log driver region)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the workers."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets to launch workers in (SQS/S3 through VPC endpoints, the chain RPC and ECR through NAT or endpoints)."
  type        = list(string)
}

variable "instance_types" {
  description = "GPU instance types the spot fleet may use, most preferred first; more types = more spot pools = fewer interruptions. All must have NVIDIA GPUs and the same architecture as the image."
  type        = list(string)
  default     = ["g4dn.xlarge", "g5.xlarge", "g6.xlarge", "g4dn.2xlarge"]
}

variable "ami_ssm_parameter" {
  description = "Public SSM parameter resolving to the GPU AMI at launch (ECS-optimised GPU AMI: Docker + NVIDIA driver + container toolkit)."
  type        = string
  default     = "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
}

variable "root_volume_gb" {
  description = "Size of the encrypted gp3 root volume: CUDA image, DJL natives and task data."
  type        = number
  default     = 100
}

variable "min_size" {
  description = "Fewest workers; 0 lets an idle marketplace cost nothing for GPUs."
  type        = number
  default     = 0
}

variable "max_size" {
  description = "Most workers the backlog may scale out to."
  type        = number
  default     = 4
}

variable "on_demand_base_capacity" {
  description = "Workers always bought on demand (above min_size they are all spot)."
  type        = number
  default     = 0
}

variable "target_backlog_per_instance" {
  description = "Visible messages in the worker queues per in-service instance that target tracking keeps (a task takes minutes, so about 2)."
  type        = number
  default     = 2
}

variable "image_tag" {
  description = "Tag of the worker image in the module's ECR repository that instances run."
  type        = string
  default     = "latest"
}

variable "consume_queues" {
  description = "Queues the worker pulls from (those with consumer \"gpu-worker\" in queues.json), by key: name and ARN."
  type = map(object({
    name = string
    arn  = string
  }))

  validation {
    condition     = length(var.consume_queues) > 0
    error_message = "No queue to consume: queues.json must name at least one queue with consumer \"gpu-worker\"."
  }
}

variable "send_queues" {
  description = "Queues the worker sends to (its signed submissions and re-execution results), by key: name and ARN."
  type = map(object({
    name = string
    arn  = string
  }))
}

variable "bucket_arn" {
  description = "ARN of the artifacts bucket."
  type        = string
}

variable "bucket_read_prefixes" {
  description = "Key prefixes the worker reads: global models, data shards, every worker's committed checkpoints, updates and trails under workers/ (to re-execute and to resume after a spot interruption), task progress, submissions (a worker never re-executes its own), re-execution results (answered once) and the marketplace's reveal requests of private shards (reveal-requests/: the owner's worker seals a drawn segment to the drawn re-executor, who opens it from workers/<owner>/reveals/)."
  type        = list(string)
  default     = ["models/", "datasets/", "workers/", "checkpoints/", "updates/", "tasks/", "submissions/", "reexec/", "reveal-requests/"]
}

variable "bucket_write_prefixes" {
  description = "Shared key prefixes the worker writes besides its own prefix (io.fedmarket.worker.store.ArtifactStore): task progress hints, submission records and re-execution results. What it commits to (checkpoints, updates, trail manifests, re-executed end states) goes only under workers/<worker_address>/, which no other worker's role may write."
  type        = list(string)
  default     = ["tasks/", "submissions/", "reexec/"]
}

variable "worker_address" {
  description = "The 0x address of the fleet's bonded key (key_secret_arn). The role may write its commitments only under workers/<lower-case address>/: a checkpoint or trail a signed submission names there is provably this worker's doing, and no other worker can overwrite or replace it (issue 23: framing an honest worker)."
  type        = string

  validation {
    condition     = can(regex("^0x[0-9a-fA-F]{40}$", var.worker_address))
    error_message = "worker_address must be the 0x-prefixed 20-byte address of the worker key."
  }
}

variable "key_secret_arn" {
  description = "Secrets Manager secret holding the fleet's bonded signing key (modules/chain); the worker reads it at start, it never passes through Terraform."
  type        = string
}

variable "environment" {
  description = "Environment of the worker container (queue URLs, bucket, chain id, Marketplace address …, the names WorkerConfig reads); non-secret values only, they are visible in the launch template. The module adds region, spot notice source and key file."
  type        = map(string)
}

variable "enable_ssm_session" {
  description = "Attach AmazonSSMManagedInstanceCore so operators can open Session Manager shells on workers (no SSH keys, no open ports)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the worker containers' logs."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource (and propagated to instances)."
  type        = map(string)
  default     = {}
}
