# The whole marketplace in one module: network, queues, bucket, database, chain secrets, functions, API and the GPU
# worker fleet. The environments (environments/dev, environments/prod) differ only in the values they feed it: their
# name, their size and how their data is protected.
locals {
  name = "fedmarket-${var.environment}"
  tags = {
    "fedmarket:environment" = var.environment
    "fedmarket:managed-by"  = "terraform"
  }

  # The sources of truth shared with the Java code: queue names and the Lambdas' contract.
  repo_root      = "${path.module}/../../.."
  queues_spec    = jsondecode(file("${local.repo_root}/shared/src/main/resources/io/fedmarket/queues.json"))
  functions_spec = jsondecode(file("${local.repo_root}/shared/src/main/resources/io/fedmarket/functions.json"))

  worker_queue_keys = [for q in local.queues_spec.queues : q.key if q.consumer == "gpu-worker"]
  worker_send_keys  = ["submissions", "reexec-results"]
}

data "aws_caller_identity" "current" {}

module "network" {
  source = "../../modules/network"

  name                = local.name
  region              = var.region
  availability_zones  = var.availability_zones
  nat_gateway_count   = var.size.nat_gateway_count
  interface_endpoints = var.size.interface_endpoints
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
  bucket_name   = "${local.queues_spec.bucket}-${var.environment}-${data.aws_caller_identity.current.account_id}"
  force_destroy = var.bucket_force_destroy
  tags          = local.tags
}

module "database" {
  source = "../../modules/database"

  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.functions.security_group_id]
  min_capacity              = var.size.db_min_capacity
  max_capacity              = var.size.db_max_capacity
  instance_count            = var.size.db_instance_count
  backup_retention_days     = var.database.backup_retention_days
  deletion_protection       = var.database.deletion_protection
  skip_final_snapshot       = var.database.skip_final_snapshot
  require_tls               = var.database.require_tls
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
  sqs_max_concurrency        = var.size.sqs_max_concurrency
  log_retention_days         = var.size.log_retention_days
  tags                       = local.tags
}

module "api" {
  source = "../../modules/api"

  name                   = local.name
  functions              = module.functions.functions
  throttling_rate_limit  = var.size.api_rate_limit
  throttling_burst_limit = var.size.api_burst_limit
  log_retention_days     = var.size.log_retention_days
  tags                   = local.tags
}

module "gpu_worker" {
  source = "../../modules/gpu_worker"

  name           = local.name
  region         = var.region
  vpc_id         = module.network.vpc_id
  subnet_ids     = module.network.private_subnet_ids
  instance_types = var.size.worker_types
  min_size       = 0
  max_size       = var.size.worker_max_size
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
  log_retention_days = var.size.log_retention_days
  tags               = local.tags
}
