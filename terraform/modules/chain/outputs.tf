# From the inputs, not the parameters: the provider marks every aws_ssm_parameter value sensitive.
output "rpc_url" {
  description = "JSON-RPC endpoint (FEDMARKET_RPC_URL)."
  value       = var.rpc_url
}

output "chain_id" {
  description = "EIP-155 chain id (FEDMARKET_CHAIN_ID), as a string for environment variables."
  value       = tostring(var.chain_id)
}

output "marketplace_address" {
  description = "Marketplace contract address (FEDMARKET_MARKETPLACE_ADDRESS); empty until deployed."
  value       = var.marketplace_address
}

output "signer_secret_arns" {
  description = "ARNs of the signer key secrets by signer name; grant each only to the component that signs with it."
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.arn }
}

output "signer_secret_names" {
  description = "Names of the signer key secrets by signer name, for `aws secretsmanager put-secret-value --secret-id`."
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.name }
}

output "parameter_arns" {
  description = "ARNs of the chain parameters (RPC URL, chain id, contract address when set)."
  value = concat(
    [aws_ssm_parameter.rpc_url.arn, aws_ssm_parameter.chain_id.arn],
    aws_ssm_parameter.marketplace_address[*].arn,
  )
}
