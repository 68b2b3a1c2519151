output "api_url" {
  value = aws_apigatewayv2_api.api.api_endpoint
}

output "site_url" {
  value = local.site_origin
}

output "site_bucket" {
  description = "Where `huchu frontend publish` puts the page."
  value       = aws_s3_bucket.site.bucket
}

output "image_repository" {
  description = "Push lambda.Dockerfile's image here, then set image_tag."
  value       = aws_ecr_repository.functions.repository_url
}

output "secret_arn" {
  description = "Put HUCHU_ADMIN_TOKEN, HUCHU_URL_SECRET (and HUCHU_QDRANT_API_KEY) here as JSON."
  value       = aws_secretsmanager_secret.app.arn
}

output "qdrant_url" {
  value = local.qdrant_url
}
