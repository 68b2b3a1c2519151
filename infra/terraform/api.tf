# One HTTP API; every route the function apps have (tests/infra/test_terraform.py compares
# routes.json with the apps). The page reaches it through its CloudFront distribution at
# /api/* (site.tf), so there is no cross-origin call and no CORS; the functions refuse
# requests that did not come through it. Throttles: a limit on every route, by kind
# (var.route_limits); per client: the web ACL's rate rules (waf.tf). docs/serverless.md.

resource "aws_apigatewayv2_api" "api" {
  name          = "${var.name}-api"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "fn" {
  for_each               = local.http_functions
  api_id                 = aws_apigatewayv2_api.api.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.fn[each.key].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000
}

resource "aws_apigatewayv2_route" "r" {
  #checkov:skip=CKV_AWS_309:participants are anonymous (owner tokens); admin routes check the bearer token in the app, in constant time
  for_each  = local.routes
  api_id    = aws_apigatewayv2_api.api.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.fn[each.value].id}"
}

resource "aws_cloudwatch_log_group" "api" {
  #checkov:skip=CKV_AWS_338:privacy: logs with participants' addresses are kept var.log_retention_days (30 by default), not a year
  name              = "/huchu/${var.name}/api"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.api.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.api_rate_limit
    throttling_burst_limit = var.api_burst_limit
  }

  dynamic "route_settings" {
    for_each = local.route_kinds
    content {
      route_key              = route_settings.key
      throttling_rate_limit  = var.route_limits[route_settings.value].rate
      throttling_burst_limit = var.route_limits[route_settings.value].burst
    }
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api.arn
    format = jsonencode({
      requestId = "$context.requestId", ip = "$context.identity.sourceIp", route = "$context.routeKey",
      status    = "$context.status", latency = "$context.integrationLatency", error = "$context.integrationErrorMessage"
    })
  }

  depends_on = [aws_apigatewayv2_route.r]
}

resource "aws_lambda_permission" "api" {
  for_each      = local.http_functions
  statement_id  = "api-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.api.execution_arn}/*/*"
}
