variable "name" {
  description = "Name prefix of the database resources (e.g. fedmarket-dev)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (at least two availability zones) for the Aurora subnet group."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect on the PostgreSQL port (the Lambdas')."
  type        = list(string)
}

variable "database_name" {
  description = "Name of the application database that Flyway migrates."
  type        = string
  default     = "fedmarket"
}

variable "master_username" {
  description = "Master user name; the password is generated and kept in Secrets Manager."
  type        = string
  default     = "fedmarket"
}

variable "engine_version" {
  description = "Aurora PostgreSQL engine version (16.x supports scaling to 0 ACU with auto-pause)."
  type        = string
  default     = "16.6"
}

variable "min_capacity" {
  description = "Minimum Aurora Serverless v2 capacity in ACUs; 0 lets an idle cluster pause (dev), 0.5 keeps it warm (prod)."
  type        = number
  default     = 0
}

variable "max_capacity" {
  description = "Maximum Aurora Serverless v2 capacity in ACUs."
  type        = number
  default     = 4
}

variable "seconds_until_auto_pause" {
  description = "Idle seconds before a cluster with min_capacity 0 pauses (300 to 86400); ignored otherwise."
  type        = number
  default     = 1800
}

variable "instance_count" {
  description = "Cluster instances: 1 = writer only, 2+ adds readers in other zones for failover."
  type        = number
  default     = 1
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse to delete the cluster (set true in prod)."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Delete without a final snapshot (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every database resource."
  type        = map(string)
  default     = {}
}

variable "require_tls" {
  description = "Set rds.force_ssl: refuse connections without TLS. Turn on once the functions' %prod profile sets quarkus.datasource.reactive.postgresql.ssl-mode=require (Vert.x then needs trust options for the RDS CA or trust-all)."
  type        = bool
  default     = false
}
