locals {
  api_functions = { for n, f in var.functions : n => f if f.trigger == "api" }
  routes = merge([
    for n, f in local.api_functions : { for r in f.routes : r => n }
  ]...)
  auth_routes = [for r, n in local.routes : r if startswith(r, "POST /auth/")]
}

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "fedmarket marketplace API: intents, providers, jobs, claims; SIWE sign-in issues the JWTs the functions validate"

  dynamic "cors_configuration" {
    for_each = length(var.cors_allow_origins) > 0 ? [1] : []
    content {
      allow_origins = var.cors_allow_origins
      allow_methods = ["GET", "POST"]
      allow_headers = ["authorization", "content-type"]
      max_age       = 600
    }
  }

  tags = var.tags
}

# Lambda proxy, payload 2.0: the function sees method, path, headers (Authorization included) and
# body, and answers with status + JSON body. No API Gateway authorizer: see README ("JWT").
resource "aws_apigatewayv2_integration" "this" {
  for_each = local.api_functions

  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = each.value.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 29000
}

resource "aws_apigatewayv2_route" "this" {
  for_each = local.routes

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.this[each.value].id}"
  authorization_type = "NONE"
}

# A request no route matches (a wrong method, an unknown path) goes to the auth function, whose router answers 405 with
# the methods the path allows or 404 with the routes, as {code, error, details} (API Gateway's own 404 is a bare message).
resource "aws_apigatewayv2_route" "default" {
  count = contains(keys(local.api_functions), "auth") ? 1 : 0

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = "$default"
  target             = "integrations/${aws_apigatewayv2_integration.this["auth"].id}"
  authorization_type = "NONE"
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }

  dynamic "route_settings" {
    for_each = toset(local.auth_routes)
    content {
      route_key              = route_settings.value
      throttling_rate_limit  = var.auth_rate_limit
      throttling_burst_limit = var.auth_rate_limit * 2
    }
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTimeEpoch"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      latencyMs          = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
    })
  }

  tags = var.tags

  depends_on = [aws_apigatewayv2_route.this]
}

resource "aws_lambda_permission" "this" {
  for_each = local.api_functions

  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = each.value.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
