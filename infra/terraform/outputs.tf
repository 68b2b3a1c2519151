output "api_url" {
  value = aws_apigatewayv2_api.api.api_endpoint
}

output "site_url" {
  value = local.site_origin
}
