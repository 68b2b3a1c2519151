# One secret holds the app's secrets as JSON: HUCHU_ADMIN_TOKEN, HUCHU_URL_SECRET and
# HUCHU_QDRANT_API_KEY. Terraform creates it empty; the operator sets the value
# (docs/serverless.md), so no secret is in the state or in an environment variable.

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:rotating the URL secret invalidates every signed link and the admin token is held by people; both are rotated by hand (docs/serverless.md)
  name                    = "${var.name}/app"
  description             = "Huchu: HUCHU_ADMIN_TOKEN, HUCHU_URL_SECRET, HUCHU_QDRANT_API_KEY"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
}
