# The dev environment: the marketplace's one stack module (modules/stack) with dev's name, size and data protection.
locals {
  environment = "dev"
  tags = {
    "fedmarket:environment" = local.environment
    "fedmarket:managed-by"  = "terraform"
  }
}

module "stack" {
  source = "../../modules/stack"

  environment = local.environment
  # dev: cheapest shape that still runs every path (one NAT, database pauses when idle, no GPUs
  # until there is work).
  size = {
    nat_gateway_count   = 1
    interface_endpoints = ["sqs"]
    db_min_capacity     = 0
    db_max_capacity     = 2
    db_instance_count   = 1
    worker_max_size     = 2
    worker_types        = ["g4dn.xlarge", "g5.xlarge", "g6.xlarge"]
    sqs_max_concurrency = 5
    api_rate_limit      = 20
    api_burst_limit     = 40
    log_retention_days  = 7
  }
  bucket_force_destroy = true
  database = {
    backup_retention_days = 1
    deletion_protection   = false
    skip_final_snapshot   = true
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
