output "api_url" {
  description = "Where the page calls the API: its own origin (CloudFront sends /api/* to API Gateway)."
  value       = local.site_origin
}

output "site_url" {
  value = local.site_origin
}

output "site_distribution" {
  description = "The CloudFront distribution `huchu frontend publish --distribution` invalidates."
  value       = aws_cloudfront_distribution.site.id
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
  description = "Put HUCHU_ADMIN_TOKEN, HUCHU_URL_SECRET, HUCHU_QDRANT_API_KEY and HUCHU_ORIGIN_SECRET here as JSON."
  value       = aws_secretsmanager_secret.app.arn
}

output "qdrant_url" {
  value = local.qdrant_url
}

output "graph_url" {
  description = "Empty when the managed FalkorDB's URL is in the app secret."
  value       = local.graph_url
}
