variable "name" {
  description = "Name prefix of the Lambdas, roles and log groups (e.g. fedmarket-dev); a Lambda is named <name>-<function name>."
  type        = string
}

variable "spec" {
  description = "The decoded shared/src/main/resources/io/fedmarket/functions.json: handler, the environment variable names the functions read, and one entry per exported function (name = QUARKUS_FUNQY_EXPORT, trigger, routes or queueKey, batch size, memory, timeout). Optional per function: sends (queue keys it sends to), bucketRead/bucketWrite (key prefixes), handler."
  type = object({
    handler     = string
    environment = list(string)
    functions = list(object({
      name           = string
      trigger        = string
      routes         = optional(list(string), [])
      queueKey       = optional(string)
      batchSize      = optional(number, 10)
      memoryMb       = number
      timeoutSeconds = number
      handler        = optional(string)
      sends          = optional(list(string))
      bucketRead     = optional(list(string))
      bucketWrite    = optional(list(string))
    }))
  })

  validation {
    condition     = alltrue([for f in var.spec.functions : contains(["api", "sqs"], f.trigger)])
    error_message = "Every function in functions.json needs trigger \"api\" or \"sqs\"."
  }
}

variable "package_path" {
  description = "Path of the single functions/target/function.zip that every Lambda runs (build it first: ./mvnw -pl functions -am package)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime of the Quarkus JVM build."
  type        = string
  default     = "java21"
}

variable "architecture" {
  description = "Lambda architecture; the JVM zip has no native code, so arm64 (Graviton, about 20% cheaper) works."
  type        = string
  default     = "arm64"
}

variable "queues" {
  description = "Work queues by queues.json key (output `queues` of modules/queues)."
  type = map(object({
    name                       = string
    arn                        = string
    url                        = string
    visibility_timeout_seconds = number
  }))
}

variable "queue_url_prefix" {
  description = "FEDMARKET_QUEUE_URL_PREFIX: the code appends a queue name to it."
  type        = string
}

variable "bucket_name" {
  description = "Artifacts bucket (FEDMARKET_BUCKET)."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the artifacts bucket, to scope S3 permissions to key prefixes."
  type        = string
}

variable "database" {
  description = "How the functions reach PostgreSQL: reactive URL, user and password (QUARKUS_DATASOURCE_*)."
  type = object({
    reactive_url = string
    username     = string
    password     = string
  })
  sensitive = true
}

variable "database_secret_arn" {
  description = "Secrets Manager secret with the database credentials; readable by the functions listed in database_secret_readers."
  type        = string
}

variable "database_secret_readers" {
  description = "Functions allowed to read the database secret at run time (empty while the password comes from the environment)."
  type        = list(string)
  default     = []
}

variable "rpc_url" {
  description = "FEDMARKET_RPC_URL: JSON-RPC endpoint of the settlement chain."
  type        = string
}

variable "chain_id" {
  description = "FEDMARKET_CHAIN_ID: EIP-155 chain id, as a string."
  type        = string
}

variable "marketplace_address" {
  description = "FEDMARKET_MARKETPLACE_ADDRESS: the Marketplace contract settle posts rounds to and verify checks EIP-712 signatures against (empty until deployed: both then fail their records into the DLQ, losing nothing)."
  type        = string
  default     = ""
}

variable "coordinator_key_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the hex key with COORDINATOR_ROLE (FEDMARKET_COORDINATOR_KEY = secretsmanager:<ARN>); grant it to settle through secret_access."
  type        = string
  default     = ""
}

variable "dispute_window" {
  description = "FEDMARKET_DISPUTE_WINDOW: ISO-8601 duration a rejected worker may dispute before settle slashes it on chain (the settler key needs VERIFIER_ROLE)."
  type        = string
  default     = "PT1H"
  validation {
    condition     = can(regex("^P(T([0-9]+H)?([0-9]+M)?([0-9]+S)?|[0-9]+D)$", var.dispute_window))
    error_message = "dispute_window must be an ISO-8601 duration such as PT1H, PT30M or P1D."
  }
}

variable "jwt_issuer" {
  description = "FEDMARKET_JWT_ISSUER: issuer (iss) of the RS256 tokens the auth function mints after SIWE; normally the API's public URL."
  type        = string
}

variable "jwt_keys_layer_path" {
  description = "Path of a zip holding jwt/signing-key.pem (RSA, PKCS#8) and jwt/public.pem, made by the operator outside the repository (terraform/README.md); published as a Lambda layer mounted at /opt/jwt."
  type        = string
}

variable "siwe_domain" {
  description = "FEDMARKET_SIWE_DOMAIN: the domain that Sign-In with Ethereum messages must name."
  type        = string
}

variable "secret_access" {
  description = "Extra Secrets Manager ARNs per function name (e.g. the settler key for settle)."
  type        = map(list(string))
  default     = {}
}

variable "subnet_ids" {
  description = "Private subnets the Lambdas run in (they reach Aurora there; SQS/S3 through VPC endpoints, the chain RPC through NAT)."
  type        = list(string)
}

variable "vpc_id" {
  description = "VPC of the Lambdas' security group."
  type        = string
}

variable "sqs_max_concurrency" {
  description = "Most concurrent invocations per SQS event source mapping (2 to 1000): caps database connections."
  type        = number
  default     = 10
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the functions' logs."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "data_share_bps" {
  description = "Data providers' share of each accepted task's GPU pay, in basis points (1000 = 10%), paid on top from the job's escrow by settle."
  type        = number
  default     = 1000
  validation {
    condition     = var.data_share_bps >= 0 && var.data_share_bps <= 10000
    error_message = "data_share_bps is basis points: 0 to 10000."
  }
}
