# The scheduled recompute invokes the recompute function (same image and handler as the
# averages function, longer timeout, one at a time) with EventBridge Scheduler's input.

resource "aws_iam_role" "scheduler" {
  name = "${var.name}-scheduler"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "scheduler.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
}

resource "aws_iam_role_policy" "scheduler" {
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "lambda:InvokeFunction", Resource = aws_lambda_function.fn["recompute"].arn },
      { Effect = "Allow", Action = "sqs:SendMessage", Resource = aws_sqs_queue.recompute_dlq.arn },
      { Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"], Resource = aws_kms_key.main.arn },
    ]
  })
}

resource "aws_scheduler_schedule" "recompute" {
  name                = "${var.name}-recompute"
  schedule_expression = "rate(${var.recompute_minutes} minutes)"
  kms_key_arn         = aws_kms_key.main.arn
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_lambda_function.fn["recompute"].arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ huchu = "recompute", event = "*" })
    retry_policy {
      maximum_retry_attempts       = 1
      maximum_event_age_in_seconds = 60 * var.recompute_minutes
    }
    dead_letter_config {
      arn = aws_sqs_queue.recompute_dlq.arn
    }
  }
}
