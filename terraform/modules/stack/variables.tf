variable "environment" {
  description = "Name of the environment (dev, prod, …): names every resource (fedmarket-<environment>) and tags it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "size" {
  description = "How big the environment is: NATs, VPC interface endpoints, database capacity, GPU fleet, Lambda concurrency, API throttling, log retention."
  type = object({
    nat_gateway_count   = number
    interface_endpoints = list(string)
    db_min_capacity     = number
    db_max_capacity     = number
    db_instance_count   = number
    worker_max_size     = number
    worker_types        = list(string)
    sqs_max_concurrency = number
    api_rate_limit      = number
    api_burst_limit     = number
    log_retention_days  = number
  })
}

variable "bucket_force_destroy" {
  description = "Let terraform destroy delete the artifacts bucket with its objects (dev only)."
  type        = bool
}

variable "database" {
  description = "How the database's data is protected: backups, deletion protection, final snapshot, TLS."
  type = object({
    backup_retention_days = number
    deletion_protection   = bool
    skip_final_snapshot   = bool
    require_tls           = bool
  })
}

variable "region" {
  description = "AWS region to deploy the marketplace to."
  type        = string
  default     = "us-east-1"
}

variable "availability_zones" {
  description = "Availability zones of the region to use (at least two; GPU spot capacity differs per zone)."
  type        = list(string)
}

variable "rpc_url" {
  description = "JSON-RPC endpoint of the settlement chain (https:// or wss://)."
  type        = string
}

variable "chain_id" {
  description = "EIP-155 chain id of the settlement chain."
  type        = number
}

variable "marketplace_address" {
  description = "Address of the deployed Marketplace contract: the EIP-712 domain workers sign submissions for (FEDMARKET_MARKETPLACE). Deploy the contracts first."
  type        = string

  validation {
    condition     = can(regex("^0x[0-9a-fA-F]{40}$", var.marketplace_address))
    error_message = "marketplace_address must be the 0x-prefixed 20-byte address of the deployed Marketplace contract."
  }
}

variable "siwe_domain" {
  description = "Domain that Sign-In with Ethereum messages must name (FEDMARKET_SIWE_DOMAIN)."
  type        = string
}

variable "jwt_keys_layer_path" {
  description = "Zip with jwt/signing-key.pem and jwt/public.pem, the token key pair (made once per environment, kept outside the repository; see terraform/README.md)."
  type        = string
}

variable "jwt_issuer" {
  description = "Issuer of the marketplace's JWTs; empty = the API's own URL."
  type        = string
  default     = ""
}

variable "worker_image_tag" {
  description = "Tag of the GPU worker image in ECR that new instances run."
  type        = string
  default     = "latest"
}

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic) notified when a DLQ receives messages."
  type        = list(string)
  default     = []
}

variable "worker_address" {
  description = "The 0x address of the worker fleet's bonded key (the secret in modules/chain): the worker role may write its commitments only under workers/<address>/."
  type        = string

  validation {
    condition     = can(regex("^0x[0-9a-fA-F]{40}$", var.worker_address))
    error_message = "worker_address must be the 0x-prefixed 20-byte address of the worker key."
  }
}
