variable "name" {
  description = "Name of the HTTP API (e.g. fedmarket-dev)."
  type        = string
}

variable "functions" {
  description = "The API-triggered Lambdas by function name, with their routes from functions.json (e.g. \"POST /intents\"): output `functions` of modules/functions."
  type = map(object({
    function_name = string
    arn           = string
    invoke_arn    = string
    trigger       = string
    routes        = list(string)
  }))
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second allowed across the API's routes."
  type        = number
  default     = 50
}

variable "throttling_burst_limit" {
  description = "Burst of requests allowed above the steady rate."
  type        = number
  default     = 100
}

variable "auth_rate_limit" {
  description = "Requests per second on the sign-in routes (POST /auth/*), tighter than the rest against challenge flooding."
  type        = number
  default     = 5
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser (empty: no CORS headers, CLI and servers only)."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the access logs."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
