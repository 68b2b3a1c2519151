# Images bucket (private, presigned GETs), site bucket (static HTMX page), one Lambda per
# function group behind an HTTP API, and the scheduled recompute.

resource "aws_s3_bucket" "images" {
  bucket = "${var.name}-images"
}

resource "aws_s3_bucket_public_access_block" "images" {
  bucket                  = aws_s3_bucket.images.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "images" {
  bucket = aws_s3_bucket.images.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "images" {
  bucket = aws_s3_bucket.images.id
  versioning_configuration {
    # Off on purpose: delete-my-photos must leave no old versions behind.
    status = "Suspended"
  }
}

resource "aws_s3_bucket" "site" {
  bucket = "${var.name}-site"
}

resource "aws_s3_bucket_website_configuration" "site" {
  bucket = aws_s3_bucket.site.id
  index_document {
    suffix = "index.html"
  }
}

locals {
  site_origin = "http://${aws_s3_bucket_website_configuration.site.website_endpoint}"
  functions = {
    photos   = { handler = "functions.photos.handler", memory = 2048, timeout = 60 }
    catalog  = { handler = "functions.catalog.handler", memory = 1024, timeout = 30 }
    averages = { handler = "functions.averages.handler", memory = 2048, timeout = 300 }
    admin    = { handler = "functions.admin.handler", memory = 512, timeout = 30 }
  }
  environment = {
    HUCHU_PRODUCTION    = "true"
    HUCHU_QDRANT_URL    = var.qdrant_url
    HUCHU_GRAPH_URL     = var.graph_url
    HUCHU_S3_BUCKET     = aws_s3_bucket.images.bucket
    HUCHU_S3_REGION     = var.region
    HUCHU_INFERENCE_URL = var.inference_url
    HUCHU_ADMIN_TOKEN   = var.admin_token
    HUCHU_URL_SECRET    = var.url_secret
    HUCHU_CORS_ORIGINS  = local.site_origin
  }
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

resource "aws_iam_role" "functions" {
  name               = "${var.name}-functions"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "images" {
  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.images.arn}/*"]
  }
  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.images.arn]
  }
}

resource "aws_iam_role_policy" "images" {
  role   = aws_iam_role.functions.id
  policy = data.aws_iam_policy_document.images.json
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.functions.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_lambda_function" "fn" {
  for_each      = local.functions
  function_name = "${var.name}-${each.key}"
  role          = aws_iam_role.functions.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  memory_size   = each.value.memory
  timeout       = each.value.timeout
  image_config {
    command = [each.value.handler]
  }
  environment {
    variables = local.environment
  }
  tracing_config {
    mode = "Active"
  }
}

resource "aws_apigatewayv2_api" "api" {
  name          = "${var.name}-api"
  protocol_type = "HTTP"
  cors_configuration {
    allow_origins  = [local.site_origin]
    allow_methods  = ["GET", "POST", "DELETE", "OPTIONS"]
    allow_headers  = ["hx-request", "hx-current-url", "hx-target", "hx-trigger", "hx-trigger-name", "x-huchu-owner", "x-huchu-lang", "authorization", "content-type"]
    expose_headers = ["hx-trigger", "hx-redirect", "hx-retarget", "hx-reswap", "hx-push-url", "x-huchu-owner-token"]
    max_age        = 600
  }
}

resource "aws_apigatewayv2_integration" "fn" {
  for_each               = local.functions
  api_id                 = aws_apigatewayv2_api.api.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.fn[each.key].invoke_arn
  payload_format_version = "2.0"
}

locals {
  routes = {
    "POST /api/photos"                    = "photos"
    "DELETE /api/photos/{id}"             = "photos"
    "GET /api/photos"                     = "catalog"
    "GET /api/photos/{id}"                = "catalog"
    "GET /api/faces"                      = "catalog"
    "GET /api/faces/{proxy+}"             = "catalog"
    "POST /api/lookalikes"                = "catalog"
    "GET /api/engine"                     = "catalog"
    "GET /api/averages"                   = "averages"
    "GET /api/averages/history"           = "averages"
    "GET /api/leaderboard"                = "averages"
    "POST /api/averages/recompute"        = "averages"
    "GET /api/admin/faces/{id}/embedding" = "admin"
  }
}

resource "aws_apigatewayv2_route" "r" {
  for_each  = local.routes
  api_id    = aws_apigatewayv2_api.api.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.fn[each.value].id}"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.api.id
  name        = "$default"
  auto_deploy = true
  default_route_settings {
    throttling_burst_limit = 50
    throttling_rate_limit  = 20
  }
}

resource "aws_lambda_permission" "api" {
  for_each      = local.functions
  statement_id  = "api-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.api.execution_arn}/*/*"
}

# The scheduled recompute calls the averages function's schedule handler directly.
resource "aws_iam_role" "scheduler" {
  name = "${var.name}-scheduler"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "scheduler.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "scheduler" {
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "lambda:InvokeFunction", Resource = aws_lambda_function.fn["averages"].arn }]
  })
}

resource "aws_scheduler_schedule" "recompute" {
  name                = "${var.name}-recompute"
  schedule_expression = "rate(${var.recompute_minutes} minutes)"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_lambda_function.fn["averages"].arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ "huchu" = "recompute", "event" = "*" })
  }
}
