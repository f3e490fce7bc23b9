variable "name" {
  description = "Name prefix of the network resources (e.g. fedmarket-dev)."
  type        = string
}

variable "region" {
  description = "AWS region, used for the VPC endpoint service names."
  type        = string
}

variable "cidr_block" {
  description = "CIDR block of the VPC; private subnets take /20s from the low half, public subnets /24s from the high half."
  type        = string
  default     = "10.40.0.0/16"
}

variable "availability_zones" {
  description = "Availability zones to spread subnets over; Aurora needs at least two."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "Give at least two availability zones: the Aurora subnet group needs two."
  }
}

variable "nat_gateway_count" {
  description = "NAT gateways for egress to the chain RPC and other public endpoints: 0 (no internet egress), 1 (one shared, cheap) or one per availability zone (survives an AZ outage)."
  type        = number
  default     = 1

  validation {
    condition     = var.nat_gateway_count >= 0
    error_message = "nat_gateway_count cannot be negative."
  }
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints instead of NAT (each costs about 7.30 USD per AZ per month). SQS is the minimum; ecr.api + ecr.dkr save NAT traffic on worker image pulls."
  type        = list(string)
  default     = ["sqs"]
}

variable "tags" {
  description = "Tags added to every network resource."
  type        = map(string)
  default     = {}
}
