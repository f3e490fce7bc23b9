output "repository_url" {
  description = "ECR repository to push the worker image to (docker tag … <url>:<tag>)."
  value       = aws_ecr_repository.this.repository_url
}

output "autoscaling_group_name" {
  description = "Name of the spot worker Auto Scaling Group."
  value       = aws_autoscaling_group.this.name
}

output "role_arn" {
  description = "IAM role of the worker instances."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the worker containers."
  value       = aws_cloudwatch_log_group.this.name
}
