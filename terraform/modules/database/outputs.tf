output "endpoint" {
  description = "Writer endpoint of the cluster."
  value       = aws_rds_cluster.this.endpoint
}

output "reader_endpoint" {
  description = "Reader endpoint of the cluster."
  value       = aws_rds_cluster.this.reader_endpoint
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_rds_cluster.this.port
}

output "database_name" {
  description = "Name of the application database."
  value       = aws_rds_cluster.this.database_name
}

output "reactive_url" {
  description = "Vert.x reactive client URL of the writer (QUARKUS_DATASOURCE_REACTIVE_URL). TLS is configured on the client side (quarkus.datasource.reactive.postgresql.ssl-mode), not in the URL."
  value       = "postgresql://${aws_rds_cluster.this.endpoint}:${aws_rds_cluster.this.port}/${aws_rds_cluster.this.database_name}"
}

output "username" {
  description = "Database user the functions log in as."
  value       = aws_rds_cluster.this.master_username
}

output "password" {
  description = "Database password (QUARKUS_DATASOURCE_PASSWORD); also in the Secrets Manager secret."
  value       = random_password.master.result
  sensitive   = true
}

output "secret_arn" {
  description = "ARN of the Secrets Manager secret holding the database credentials."
  value       = aws_secretsmanager_secret.this.arn
}

output "security_group_id" {
  description = "Security group of the cluster."
  value       = aws_security_group.this.id
}
