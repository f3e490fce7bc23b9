output "api_endpoint" {
  description = "Base URL of the marketplace API."
  value       = module.stack.api_endpoint
}

output "worker_repository_url" {
  description = "ECR repository to push the GPU worker image to."
  value       = module.stack.worker_repository_url
}

output "bucket_name" {
  description = "Artifacts bucket."
  value       = module.stack.bucket_name
}

output "queue_url_prefix" {
  description = "Prefix of every queue URL."
  value       = module.stack.queue_url_prefix
}

output "database_secret_arn" {
  description = "Secrets Manager secret with the database credentials (for Flyway and psql)."
  value       = module.stack.database_secret_arn
}

output "signer_secret_names" {
  description = "Secrets to put the signing keys into (aws secretsmanager put-secret-value)."
  value       = module.stack.signer_secret_names
}
