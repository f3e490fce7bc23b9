locals {
  environment = "prod"
  name        = "fedmarket-${local.environment}"
  tags = {
    "fedmarket:environment" = local.environment
    "fedmarket:managed-by"  = "terraform"
  }

  # The sources of truth shared with the Java code: queue names and the Lambdas' contract.
  repo_root      = "${path.module}/../../.."
  queues_spec    = jsondecode(file("${local.repo_root}/shared/src/main/resources/io/fedmarket/queues.json"))
  functions_spec = jsondecode(file("${local.repo_root}/shared/src/main/resources/io/fedmarket/functions.json"))

  worker_queue_keys = [for q in local.queues_spec.queues : q.key if q.consumer == "gpu-worker"]
  worker_send_keys  = ["submissions", "reexec-results"]

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
}

data "aws_caller_identity" "current" {}

module "network" {
  source = "../../modules/network"

  name                = local.name
  region              = var.region
  availability_zones  = var.availability_zones
  nat_gateway_count   = local.size.nat_gateway_count
  interface_endpoints = local.size.interface_endpoints
  tags                = local.tags
}

module "queues" {
  source = "../../modules/queues"

  spec          = local.queues_spec
  alarm_actions = var.alarm_actions
  tags          = local.tags
}

module "artifacts" {
  source = "../../modules/artifacts"

  # Bucket names are global: the code's name from queues.json, made unique per environment and account.
  bucket_name   = "${local.queues_spec.bucket}-${local.environment}-${data.aws_caller_identity.current.account_id}"
  force_destroy = false
  tags          = local.tags
}

module "database" {
  source = "../../modules/database"

  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.functions.security_group_id]
  min_capacity              = local.size.db_min_capacity
  max_capacity              = local.size.db_max_capacity
  instance_count            = local.size.db_instance_count
  backup_retention_days     = 14
  deletion_protection       = true
  skip_final_snapshot       = false
  require_tls               = false
  tags                      = local.tags
}

module "chain" {
  source = "../../modules/chain"

  name                = local.name
  rpc_url             = var.rpc_url
  chain_id            = var.chain_id
  marketplace_address = var.marketplace_address
  tags                = local.tags
}

module "functions" {
  source = "../../modules/functions"

  name                       = local.name
  spec                       = local.functions_spec
  package_path               = "${local.repo_root}/${local.functions_spec.artifact}"
  queues                     = module.queues.queues
  queue_url_prefix           = module.queues.queue_url_prefix
  bucket_name                = module.artifacts.bucket_name
  bucket_arn                 = module.artifacts.bucket_arn
  database                   = { reactive_url = module.database.reactive_url, username = module.database.username, password = module.database.password }
  database_secret_arn        = module.database.secret_arn
  rpc_url                    = module.chain.rpc_url
  chain_id                   = module.chain.chain_id
  marketplace_address        = module.chain.marketplace_address
  coordinator_key_secret_arn = module.chain.signer_secret_arns["settler"]
  jwt_issuer                 = var.jwt_issuer != "" ? var.jwt_issuer : module.api.api_endpoint
  siwe_domain                = var.siwe_domain
  jwt_keys_layer_path        = var.jwt_keys_layer_path
  secret_access              = { settle = [module.chain.signer_secret_arns["settler"]] }
  subnet_ids                 = module.network.private_subnet_ids
  vpc_id                     = module.network.vpc_id
  sqs_max_concurrency        = local.size.sqs_max_concurrency
  log_retention_days         = local.size.log_retention_days
  tags                       = local.tags
}

module "api" {
  source = "../../modules/api"

  name                   = local.name
  functions              = module.functions.functions
  throttling_rate_limit  = local.size.api_rate_limit
  throttling_burst_limit = local.size.api_burst_limit
  log_retention_days     = local.size.log_retention_days
  tags                   = local.tags
}

module "gpu_worker" {
  source = "../../modules/gpu_worker"

  name           = local.name
  region         = var.region
  vpc_id         = module.network.vpc_id
  subnet_ids     = module.network.private_subnet_ids
  instance_types = local.size.worker_types
  min_size       = 0
  max_size       = local.size.worker_max_size
  image_tag      = var.worker_image_tag
  consume_queues = { for k in local.worker_queue_keys : k => module.queues.queues[k] }
  send_queues    = { for k in local.worker_send_keys : k => module.queues.queues[k] }
  bucket_arn     = module.artifacts.bucket_arn
  key_secret_arn = module.chain.signer_secret_arns["worker"]
  worker_address = var.worker_address
  # The names the worker's WorkerConfig reads; on AWS it uses the default credentials chain (the
  # instance role) and AWS's own endpoints.
  environment = {
    FEDMARKET_TASKS_QUEUE_URL       = module.queues.queues["tasks"].url
    FEDMARKET_REEXEC_QUEUE_URL      = module.queues.queues["reexec"].url
    FEDMARKET_SUBMISSIONS_QUEUE_URL = module.queues.queues["submissions"].url
    FEDMARKET_REEXEC_RESULTS_QUEUE_URL = module.queues.queues["reexec-results"].url
    FEDMARKET_BUCKET                = module.artifacts.bucket_name
    FEDMARKET_CHAIN_ID              = module.chain.chain_id
    FEDMARKET_MARKETPLACE           = var.marketplace_address
  }
  log_retention_days = local.size.log_retention_days
  tags               = local.tags
}
