variable "region" {
  description = "AWS region to deploy the marketplace to."
  type        = string
  default     = "us-east-1"
}

variable "availability_zones" {
  description = "Availability zones of the region to use (at least two; GPU spot capacity differs per zone)."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]
}

variable "rpc_url" {
  description = "JSON-RPC endpoint of the settlement chain (https:// or wss://)."
  type        = string
}

variable "chain_id" {
  description = "EIP-155 chain id of the settlement chain (dev: a testnet, e.g. 84532 Base Sepolia)."
  type        = number
  default     = 84532
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
