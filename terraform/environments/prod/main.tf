# The prod environment: the marketplace's one stack module (modules/stack) with prod's name, size and data protection.
locals {
  environment = "prod"
  tags = {
    "fedmarket:environment" = local.environment
    "fedmarket:managed-by"  = "terraform"
  }
}

module "stack" {
  source = "../../modules/stack"

  environment = local.environment
  # prod: a NAT per zone (an AZ outage does not cut the chain RPC), ECR endpoints so multi-GB
  # image pulls skip the NAT, a warm database with a reader for failover, more GPUs.
  size = {
    nat_gateway_count   = length(var.availability_zones)
    interface_endpoints = ["sqs", "ecr.api", "ecr.dkr", "secretsmanager"]
    db_min_capacity     = 0.5
    db_max_capacity     = 16
    db_instance_count   = 2
    worker_max_size     = 20
    worker_types        = ["g5.xlarge", "g6.xlarge", "g4dn.xlarge", "g5.2xlarge", "g6.2xlarge", "g4dn.2xlarge"]
    sqs_max_concurrency = 20
    api_rate_limit      = 200
    api_burst_limit     = 400
    log_retention_days  = 90
  }
  bucket_force_destroy = false
  database = {
    backup_retention_days = 14
    deletion_protection   = true
    skip_final_snapshot   = false
    require_tls           = false
  }

  region              = var.region
  availability_zones  = var.availability_zones
  rpc_url             = var.rpc_url
  chain_id            = var.chain_id
  marketplace_address = var.marketplace_address
  worker_address      = var.worker_address
  siwe_domain         = var.siwe_domain
  jwt_keys_layer_path = var.jwt_keys_layer_path
  jwt_issuer          = var.jwt_issuer
  worker_image_tag    = var.worker_image_tag
  alarm_actions       = var.alarm_actions
}
