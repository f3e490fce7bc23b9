locals {
  # the only prefix this fleet's key may write its commitments under (SubmissionSigner.workerPrefix)
  own_prefix = "workers/${lower(var.worker_address)}/"
  registry = split("/", aws_ecr_repository.this.repository_url)[0]
  image    = "${aws_ecr_repository.this.repository_url}:${var.image_tag}"
  # What the worker reads besides the queues/bucket/chain of var.environment (WorkerConfig): its
  # region, the spot notice from instance metadata, and its bonded key as a file that user data
  # fetches from Secrets Manager at boot, so the key is in neither the launch template nor the state.
  environment = merge(var.environment, {
    AWS_REGION                = var.region
    FEDMARKET_REGION          = var.region
    FEDMARKET_SPOT_NOTICE     = "imds"
    FEDMARKET_WORKER_KEY_FILE = "/run/secrets/worker-key"
  })
}

resource "aws_ecr_repository" "this" {
  name                 = "${var.name}/gpu-worker"
  image_tag_mutability = "MUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = var.tags
}

# Worker images are GBs (CUDA + DJL natives): keep the last few, drop untagged layers quickly.
resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "drop untagged images after a day"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 1 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "keep the 10 newest images"
        selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 10 }
        action       = { type = "expire" }
      },
    ]
  })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/fedmarket/${var.name}/gpu-worker"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-gpu-worker"
  description = "GPU workers: no inbound (Session Manager needs none), outbound HTTPS to AWS APIs and the chain RPC"
  vpc_id      = var.vpc_id

  egress {
    description = "HTTPS to SQS/S3/ECR/Secrets Manager and the chain RPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "HTTP for the Amazon Linux package repositories"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = merge(var.tags, { Name = "${var.name}-gpu-worker" })
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-gpu-worker"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid = "ConsumeWorkerQueues"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
    ]
    resources = [for q in var.consume_queues : q.arn]
  }

  statement {
    sid       = "SendResults"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
    resources = [for q in var.send_queues : q.arn]
  }

  statement {
    sid       = "ReadArtifacts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [for p in var.bucket_read_prefixes : "${var.bucket_arn}/${p}*"]
  }

  statement {
    sid       = "WriteArtifacts"
    actions   = ["s3:PutObject"]
    resources = [for p in var.bucket_write_prefixes : "${var.bucket_arn}/${p}*"]
  }

  # What the worker commits to (checkpoints, updates, trail manifests, re-executed end states) lives only under its own
  # prefix: no other worker's role may write there, so a signed trail naming an object there names the worker's own doing.
  statement {
    sid       = "WriteOwnPrefix"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arn}/${local.own_prefix}*"]
  }

  statement {
    sid       = "ListArtifactPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for p in distinct(concat(var.bucket_read_prefixes, var.bucket_write_prefixes, [local.own_prefix])) : "${p}*"]
    }
  }

  statement {
    sid       = "ReadOwnKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.key_secret_arn]
  }

  statement {
    sid       = "PullWorkerImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.this.arn]
  }

  # The registry token is account-wide: ECR does not support a resource here.
  statement {
    sid       = "EcrToken"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "ContainerLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  count = var.enable_ssm_session ? 1 : 0

  role       = aws_iam_role.this.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "this" {
  name = "${var.name}-gpu-worker"
  role = aws_iam_role.this.name

  tags = var.tags
}

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-gpu-worker-"
  description            = "fedmarket GPU worker: GPU AMI resolved at launch, worker image from ECR"
  image_id               = "resolve:ssm:${var.ami_ssm_parameter}"
  update_default_version = true
  vpc_security_group_ids = [aws_security_group.this.id]

  # A worker that shuts itself down (no key, see user data) is terminated, not left stopped.
  instance_initiated_shutdown_behavior = "terminate"

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  # IMDSv2 only; hop limit 2 so the container itself reaches the metadata service for its role
  # credentials and the spot interruption notice.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.root_volume_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  user_data = base64encode(templatefile("${path.module}/user_data.sh.tftpl", {
    registry    = local.registry
    image       = local.image
    region      = var.region
    log_group   = aws_cloudwatch_log_group.this.name
    environment = local.environment
    key_secret  = var.key_secret_arn
  }))

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-gpu-worker" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = var.tags
  }

  tags = var.tags
}

resource "aws_autoscaling_group" "this" {
  name                      = "${var.name}-gpu-worker"
  min_size                  = var.min_size
  max_size                  = var.max_size
  vpc_zone_identifier       = var.subnet_ids
  capacity_rebalance        = true
  default_instance_warmup   = 300
  health_check_type         = "EC2"
  health_check_grace_period = 300
  enabled_metrics           = ["GroupInServiceInstances", "GroupDesiredCapacity", "GroupTotalInstances"]

  mixed_instances_policy {
    instances_distribution {
      on_demand_base_capacity                  = var.on_demand_base_capacity
      on_demand_percentage_above_base_capacity = 0
      spot_allocation_strategy                 = "price-capacity-optimized"
    }

    launch_template {
      launch_template_specification {
        launch_template_id = aws_launch_template.this.id
        version            = "$Latest"
      }

      dynamic "override" {
        for_each = var.instance_types
        content {
          instance_type = override.value
        }
      }
    }
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = "${var.name}-gpu-worker" })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  # The scaling policy owns the desired capacity; an apply must not reset it.
  lifecycle {
    ignore_changes = [desired_capacity]
  }
}

# Backlog per instance (AWS's recommended SQS scaling metric): visible messages of every worker
# queue divided by in-service instances, floored at one instance so an empty fleet still sees
# its backlog and scales out from zero.
resource "aws_autoscaling_policy" "this" {
  name                      = "${var.name}-backlog-per-instance"
  autoscaling_group_name    = aws_autoscaling_group.this.name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = 300

  target_tracking_configuration {
    target_value = var.target_backlog_per_instance

    customized_metric_specification {
      dynamic "metrics" {
        for_each = var.consume_queues
        content {
          id          = "q_${replace(metrics.key, "-", "_")}"
          return_data = false
          metric_stat {
            stat = "Sum"
            metric {
              namespace   = "AWS/SQS"
              metric_name = "ApproximateNumberOfMessagesVisible"
              dimensions {
                name  = "QueueName"
                value = metrics.value.name
              }
            }
          }
        }
      }

      metrics {
        id          = "instances"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = "AWS/AutoScaling"
            metric_name = "GroupInServiceInstances"
            dimensions {
              name  = "AutoScalingGroupName"
              value = aws_autoscaling_group.this.name
            }
          }
        }
      }

      metrics {
        id          = "backlog_per_instance"
        label       = "Worker queue backlog per in-service instance"
        return_data = true
        expression  = "(${join(" + ", [for k in keys(var.consume_queues) : "q_${replace(k, "-", "_")}"])}) / IF(instances < 1, 1, instances)"
      }
    }
  }
}
