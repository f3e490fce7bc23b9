output "api_endpoint" {
  description = "Base URL of the API (the CLI's --api, and the natural FEDMARKET_JWT_ISSUER)."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "api_id" {
  description = "ID of the HTTP API."
  value       = aws_apigatewayv2_api.this.id
}

output "route_keys" {
  description = "Every route of the API and the function behind it."
  value       = local.routes
}
