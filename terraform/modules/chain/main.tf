# Empty secrets on purpose: Terraform creates the containers and the IAM that reads them, the key
# material is put out of band (aws secretsmanager put-secret-value, see README), so it is never in
# code, plan or state.
resource "aws_secretsmanager_secret" "this" {
  for_each = toset(var.signer_names)

  name                    = "${var.name}/chain/${each.key}-key"
  description             = "Hex private key of the ${each.key} signer of ${var.name}; value put with the AWS CLI, never by Terraform"
  recovery_window_in_days = 30

  tags = merge(var.tags, { "fedmarket:signer" = each.key })
}

resource "aws_ssm_parameter" "rpc_url" {
  name        = "/${var.name}/chain/rpc-url"
  description = "JSON-RPC endpoint of the settlement chain"
  type        = "String"
  value       = var.rpc_url

  tags = var.tags
}

resource "aws_ssm_parameter" "chain_id" {
  name        = "/${var.name}/chain/chain-id"
  description = "EIP-155 chain id of the settlement chain"
  type        = "String"
  value       = tostring(var.chain_id)

  tags = var.tags
}

resource "aws_ssm_parameter" "marketplace_address" {
  count = var.marketplace_address == "" ? 0 : 1

  name        = "/${var.name}/chain/marketplace-address"
  description = "Address of the Marketplace contract"
  type        = "String"
  value       = var.marketplace_address

  tags = var.tags
}
