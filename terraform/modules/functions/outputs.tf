output "functions" {
  description = "Lambdas by function name (QUARKUS_FUNQY_EXPORT): name, ARN, invoke ARN and trigger."
  value = {
    for n, f in aws_lambda_function.this : n => {
      function_name = f.function_name
      arn           = f.arn
      invoke_arn    = f.invoke_arn
      trigger       = local.functions[n].trigger
      routes        = local.functions[n].routes
    }
  }
}

output "security_group_id" {
  description = "Security group of the Lambdas (allowed into the database)."
  value       = aws_security_group.this.id
}

output "role_arns" {
  description = "IAM role of each Lambda by function name."
  value       = { for n, r in aws_iam_role.this : n => r.arn }
}
