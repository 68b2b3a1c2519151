# One image, one function per group, one role per function with only what it does
# (permissions.json, which tests/infra/test_permissions.py runs each function's code
# against): photos writes and deletes photos; catalog reads, and clears the look-alike
# graph's owed-work marker; averages writes and deletes the game's files; admin reads and
# writes event set-ups; recompute also sweeps what crashed requests left.

locals {
  s3_permissions = jsondecode(file("${path.module}/permissions.json"))
  writes         = { for k, v in local.s3_permissions : k => anytrue([for s in v : contains(s.actions, "s3:PutObject")]) }
  kms_actions    = { for k, w in local.writes : k => w ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"] }
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

resource "aws_iam_role" "fn" {
  for_each           = local.functions
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "fn" {
  for_each = local.functions
  dynamic "statement" {
    for_each = local.s3_permissions[each.key]
    content {
      sid       = "Objects${statement.key}"
      actions   = statement.value.actions
      resources = [for k in statement.value.keys : "${aws_s3_bucket.images.arn}/${k}"]
    }
  }
  statement {
    sid       = "ListObjects"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.images.arn]
  }
  statement {
    sid       = "Key"
    actions   = local.kms_actions[each.key]
    resources = [aws_kms_key.main.arn]
  }
  statement {
    sid       = "Secrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.app.arn]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn[each.key].arn}:*"]
  }
  dynamic "statement" {
    for_each = each.key == "recompute" ? [1] : []
    content {
      sid       = "DeadLetters"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.recompute_dlq.arn]
    }
  }
}

resource "aws_iam_role_policy" "fn" {
  for_each = local.functions
  role     = aws_iam_role.fn[each.key].id
  policy   = data.aws_iam_policy_document.fn[each.key].json
}

# Network interfaces in the VPC and X-Ray segments: AWS's managed policies, scoped by AWS.
resource "aws_iam_role_policy_attachment" "vpc" {
  for_each   = local.functions
  role       = aws_iam_role.fn[each.key].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_iam_role_policy_attachment" "xray" {
  for_each   = local.functions
  role       = aws_iam_role.fn[each.key].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_cloudwatch_log_group" "fn" {
  #checkov:skip=CKV_AWS_338:privacy: logs with participants' addresses are kept var.log_retention_days (30 by default), not a year
  for_each          = local.functions
  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_sqs_queue" "recompute_dlq" {
  name                      = "${var.name}-recompute-dlq"
  kms_master_key_id         = aws_kms_key.main.arn
  message_retention_seconds = 1209600
}

resource "aws_lambda_function" "fn" {
  #checkov:skip=CKV_AWS_272:code signing applies to zip packages; the image is pinned by an immutable ECR tag
  #checkov:skip=CKV_AWS_116:the HTTP functions are invoked synchronously by API Gateway (a dead-letter queue only catches asynchronous events); recompute has one
  for_each                       = local.functions
  function_name                  = "${var.name}-${each.key}"
  role                           = aws_iam_role.fn[each.key].arn
  package_type                   = "Image"
  image_uri                      = local.image_uri
  architectures                  = ["x86_64"]
  memory_size                    = each.value.memory
  timeout                        = each.value.timeout
  reserved_concurrent_executions = var.concurrency[each.key]
  kms_key_arn                    = aws_kms_key.main.arn

  image_config {
    command = [each.value.command]
  }

  environment {
    variables = local.environment
  }

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.functions.id]
  }

  tracing_config {
    mode = "Active"
  }

  ephemeral_storage {
    size = 1024
  }

  dynamic "dead_letter_config" {
    for_each = each.key == "recompute" ? [1] : []
    content {
      target_arn = aws_sqs_queue.recompute_dlq.arn
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.fn[each.key].name
  }

  lifecycle {
    precondition {
      condition     = local.qdrant_url != ""
      error_message = "qdrant = \"cloud\" needs qdrant_url (or leave qdrant = \"ec2\")."
    }
  }

  depends_on = [aws_iam_role_policy.fn, aws_iam_role_policy_attachment.vpc]
}
