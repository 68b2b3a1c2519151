# One secret holds the app's secrets as JSON: HUCHU_ADMIN_TOKEN, HUCHU_URL_SECRET,
# HUCHU_QDRANT_API_KEY, HUCHU_GRAPH_PASSWORD and HUCHU_ORIGIN_SECRET (a managed FalkorDB's
# HUCHU_GRAPH_URL too).
# Terraform creates it empty; the operator sets the value (docs/serverless.md), so no
# secret is in an environment variable, and only origin_secret (which CloudFront sends) is
# in the state, kept in an encrypted bucket.

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:rotating the URL secret invalidates every signed link and the admin token is held by people; both are rotated by hand (docs/serverless.md)
  name                    = "${var.name}/app"
  description             = "Huchu: HUCHU_ADMIN_TOKEN, HUCHU_URL_SECRET, HUCHU_QDRANT_API_KEY, HUCHU_ORIGIN_SECRET"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
}
