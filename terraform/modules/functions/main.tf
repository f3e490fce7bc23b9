locals {
  functions = { for f in var.spec.functions : f.name => f }
  sqs       = { for n, f in local.functions : n => f if f.trigger == "sqs" }

  # Who sends to which queue and touches which key prefix follows the architecture's flow
  # (intents -> match -> settle START -> tasks -> submissions -> verify -> reexec -> reexec-results -> judge
  # -> verdicts -> aggregate -> tasks of the next round / settle) and the outbox writes in the code (intents: match +
  # settle refunds; match: the job's START on settle; verify: re-execution requests, its own timers, BAD_SIGNATURE and
  # structural verdicts; judge: confirmations and retries, verdicts; aggregate: the next round's tasks, settle rounds
  # and slashes; settle: round 1's tasks, and a START, slash or deadline still ahead re-queues itself with a delay).
  # An entry's own `sends` / `bucketRead` / `bucketWrite` in functions.json wins over these.
  default_sends = {
    intents   = ["match", "settle"]
    match     = ["settle"]
    verify    = ["reexec", "verdicts", "submissions", "tasks"]
    judge     = ["reexec", "verdicts"]
    aggregate = ["tasks", "settle"]
    settle    = ["chain-events", "settle", "tasks"]
  }
  # settle aggregates a round that its deadline closed, as aggregate does for one closed by its verdicts, and publishes
  # round 1 (its start model) once the escrow is on chain; verify and judge read trails, checkpoints and re-executed states;
  # intents checks at intake that a builder's validation data set (datasets/<name>/) is in the bucket, and stores and reads
  # uploaded TorchScript files (POST /models, models/torchscript/); match reads them to fit a model to the offered data
  # workers/: what a worker commits to (trail manifests, checkpoints, updates, re-executed end states) lives under its own
  # prefix workers/<address>/ (issue 23), so every function that reads a trail, an update or an end state reads there
  default_bucket_read = {
    jobs      = ["models/"]
    match     = ["models/torchscript/"]
    verify    = ["models/", "updates/", "checkpoints/", "tasks/", "submissions/", "reexec/", "datasets/", "workers/"]
    intents   = ["datasets/", "models/torchscript/"]
    judge     = ["models/", "updates/", "checkpoints/", "tasks/", "reexec/", "reexec-states/", "workers/"]
    aggregate = ["models/", "updates/", "workers/"]
    settle    = ["models/", "updates/", "workers/"]
  }
  default_bucket_write = {
    intents   = ["models/torchscript/"]
    verify    = ["evidence/", "reveal-requests/"]
    judge     = ["evidence/", "reveal-requests/"]
    aggregate = ["models/", "reveal-requests/"]
    settle    = ["models/"]
  }

  sends        = { for n, f in local.functions : n => f.sends != null ? f.sends : lookup(local.default_sends, n, []) }
  bucket_read  = { for n, f in local.functions : n => f.bucketRead != null ? f.bucketRead : lookup(local.default_bucket_read, n, []) }
  bucket_write = { for n, f in local.functions : n => f.bucketWrite != null ? f.bucketWrite : lookup(local.default_bucket_write, n, []) }

  # Every variable named in functions.json's "environment" gets its value from here, so a name
  # added there without a value fails the plan (and the offline checks) instead of reaching a
  # Lambda as an unset variable. QUARKUS_FUNQY_EXPORT is set per function below.
  environment_values = {
    QUARKUS_FUNQY_EXPORT            = ""
    QUARKUS_DATASOURCE_REACTIVE_URL = var.database.reactive_url
    QUARKUS_DATASOURCE_USERNAME     = var.database.username
    QUARKUS_DATASOURCE_PASSWORD     = var.database.password
    # Empty endpoints = the SDK's own resolution with the execution role's credentials; a set
    # endpoint means "local stand-in" to the code, which then uses dummy credentials.
    FEDMARKET_SQS_ENDPOINT          = ""
    FEDMARKET_QUEUE_URL_PREFIX      = var.queue_url_prefix
    FEDMARKET_BUCKET                = var.bucket_name
    FEDMARKET_S3_ENDPOINT           = ""
    FEDMARKET_RPC_URL               = var.rpc_url
    FEDMARKET_CHAIN_ID              = var.chain_id
    FEDMARKET_MARKETPLACE_ADDRESS   = var.marketplace_address
    # a reference, not the key: only the settle role may read the secret (secret_access)
    FEDMARKET_COORDINATOR_KEY       = var.coordinator_key_secret_arn == "" ? "" : "secretsmanager:${var.coordinator_key_secret_arn}"
    FEDMARKET_DISPUTE_WINDOW        = var.dispute_window
    FEDMARKET_DATA_SHARE_BPS        = tostring(var.data_share_bps)
    FEDMARKET_JWT_ISSUER            = var.jwt_issuer
    FEDMARKET_SIWE_DOMAIN           = var.siwe_domain
    # The token key pair comes from a Lambda layer built by the operator (never from function.zip,
    # which is public, nor from Terraform values, which would put the key in the state).
    FEDMARKET_JWT_PUBLIC_KEY_LOCATION = "/opt/jwt/public.pem"
    SMALLRYE_JWT_SIGN_KEY_LOCATION    = "/opt/jwt/signing-key.pem"
  }
  environment = {
    for n, f in local.functions : n => merge(
      { for k in var.spec.environment : k => local.environment_values[k] },
      { QUARKUS_FUNQY_EXPORT = n },
    )
  }
}

resource "aws_security_group" "this" {
  name        = "${var.name}-functions"
  description = "Marketplace Lambdas: no inbound, outbound to Aurora, VPC endpoints and the chain RPC"
  vpc_id      = var.vpc_id

  egress {
    description = "Aurora, VPC endpoints and the chain RPC through NAT"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = merge(var.tags, { Name = "${var.name}-functions" })
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.functions

  name               = "${var.name}-fn-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

# ENI management for VPC Lambdas; AWS scopes these EC2 actions to no resource type.
resource "aws_iam_role_policy_attachment" "vpc" {
  for_each = local.functions

  role       = aws_iam_role.this[each.key].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

data "aws_iam_policy_document" "this" {
  for_each = local.functions

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
  }

  dynamic "statement" {
    for_each = each.value.trigger == "sqs" ? [each.value.queueKey] : []
    content {
      sid = "ConsumeOwnQueue"
      actions = [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
      ]
      resources = [var.queues[statement.value].arn]
    }
  }

  dynamic "statement" {
    for_each = length(local.sends[each.key]) > 0 ? [local.sends[each.key]] : []
    content {
      sid       = "SendToNextQueues"
      actions   = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
      resources = [for k in statement.value : var.queues[k].arn]
    }
  }

  dynamic "statement" {
    for_each = length(local.bucket_read[each.key]) > 0 ? [local.bucket_read[each.key]] : []
    content {
      sid       = "ReadArtifacts"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = [for p in statement.value : "${var.bucket_arn}/${p}*"]
    }
  }

  dynamic "statement" {
    for_each = length(local.bucket_read[each.key]) > 0 ? [local.bucket_read[each.key]] : []
    content {
      sid       = "ListArtifactPrefixes"
      actions   = ["s3:ListBucket"]
      resources = [var.bucket_arn]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = [for p in statement.value : "${p}*"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(local.bucket_write[each.key]) > 0 ? [local.bucket_write[each.key]] : []
    content {
      sid       = "WriteArtifacts"
      actions   = ["s3:PutObject"]
      resources = [for p in statement.value : "${var.bucket_arn}/${p}*"]
    }
  }

  dynamic "statement" {
    for_each = length(concat(
      contains(var.database_secret_readers, each.key) ? [var.database_secret_arn] : [],
      lookup(var.secret_access, each.key, []),
    )) > 0 ? [1] : []
    content {
      sid     = "ReadOwnSecrets"
      actions = ["secretsmanager:GetSecretValue"]
      resources = concat(
        contains(var.database_secret_readers, each.key) ? [var.database_secret_arn] : [],
        lookup(var.secret_access, each.key, []),
      )
    }
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.functions

  name   = "least-privilege"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.this[each.key].json
}

# The RS256 key pair for the marketplace's tokens: a zip holding jwt/signing-key.pem and jwt/public.pem
# (see terraform/README.md); only its hash is in the state.
resource "aws_lambda_layer_version" "jwt_keys" {
  layer_name               = "${var.name}-jwt-keys"
  description              = "RS256 key pair of the marketplace's tokens, mounted at /opt/jwt"
  filename                 = var.jwt_keys_layer_path
  source_code_hash         = filebase64sha256(var.jwt_keys_layer_path)
  compatible_runtimes      = [var.runtime]
  compatible_architectures = [var.architecture]
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name    = "${var.name}-${each.key}"
  description      = each.value.trigger == "sqs" ? "fedmarket ${each.key}: consumes ${var.queues[each.value.queueKey].name}" : "fedmarket ${each.key}: ${join(", ", each.value.routes)}"
  filename         = var.package_path
  source_code_hash = filebase64sha256(var.package_path)
  handler          = coalesce(each.value.handler, var.spec.handler)
  runtime          = var.runtime
  architectures    = [var.architecture]
  memory_size      = each.value.memoryMb
  timeout          = each.value.timeoutSeconds
  role             = aws_iam_role.this[each.key].arn
  layers           = [aws_lambda_layer_version.jwt_keys.arn]

  environment {
    variables = local.environment[each.key]
  }

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.this.id]
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this[each.key].name
  }

  tags = merge(var.tags, { "fedmarket:function" = each.key })

  depends_on = [
    aws_iam_role_policy.this,
    aws_iam_role_policy_attachment.vpc,
  ]
}

# ReportBatchItemFailures: one poison record goes back to the queue (and after maxReceiveCount to
# the DLQ) on its own instead of failing the whole batch; funqy reports the failed message ids.
resource "aws_lambda_event_source_mapping" "this" {
  for_each = local.sqs

  event_source_arn        = var.queues[each.value.queueKey].arn
  function_name           = aws_lambda_function.this[each.key].arn
  batch_size              = each.value.batchSize
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.sqs_max_concurrency
  }
}
