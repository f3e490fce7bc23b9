variable "name" {
  description = "Name prefix of the chain secrets and parameters (e.g. fedmarket-dev)."
  type        = string
}

variable "rpc_url" {
  description = "JSON-RPC endpoint of the EVM chain (FEDMARKET_RPC_URL). Prefer an endpoint authorised by IP allow-list or private network: a URL with an API key in it ends up in the Lambda configuration and the state."
  type        = string

  validation {
    condition     = can(regex("^(https|wss)://", var.rpc_url))
    error_message = "rpc_url must be an https:// or wss:// URL of the chain's JSON-RPC endpoint."
  }
}

variable "chain_id" {
  description = "EIP-155 chain id the contracts are deployed on (FEDMARKET_CHAIN_ID), e.g. 8453 for Base, 84532 for Base Sepolia."
  type        = number
}

variable "marketplace_address" {
  description = "Address of the deployed Marketplace contract, published as a parameter for workers and tools; empty until deployed."
  type        = string
  default     = ""

  validation {
    condition     = var.marketplace_address == "" || can(regex("^0x[0-9a-fA-F]{40}$", var.marketplace_address))
    error_message = "marketplace_address must be empty or a 0x-prefixed 20-byte hex address."
  }
}

variable "signer_names" {
  description = "Signing keys to create empty secrets for: the settler (posts rounds, slashes as verifier role) and the worker fleet's bonded key. Values are put with the AWS CLI, never through Terraform."
  type        = list(string)
  default     = ["settler", "worker"]
}

variable "tags" {
  description = "Tags added to every secret and parameter."
  type        = map(string)
  default     = {}
}
