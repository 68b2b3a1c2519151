# Huchu on AWS: one Lambda image (lambda.Dockerfile) in ECR serves four HTTP functions behind
# an HTTP API and the scheduled recompute; photos go straight to a private bucket through
# presigned PUTs; the page is a private bucket behind CloudFront; the vectors (Qdrant) and
# the look-alike graph (FalkorDB) each on an EC2 instance with an EBS volume, or at a
# managed URL; GPU inference at inference_url. Limits are explained in docs/serverless.md.

locals {
  account     = data.aws_caller_identity.current.account_id
  site_origin = "https://${aws_cloudfront_distribution.site.domain_name}"
  qdrant_url  = var.qdrant == "ec2" ? "http://${module.qdrant[0].address}" : var.qdrant_url
  graph_url   = var.graph == "ec2" ? "redis://${module.falkordb[0].address}" : var.graph_url
  # The servers' images are pinned once, in docker-compose.yml (tests/test_infra.py checks
  # the Qdrant client agrees).
  compose      = yamldecode(file("${path.module}/../../docker-compose.yml"))
  image_uri    = "${aws_ecr_repository.functions.repository_url}:${var.image_tag}"
  max_bytes    = var.max_upload_mib * 1024 * 1024
  routes       = jsondecode(file("${path.module}/routes.json"))
  upload_paths = ["POST /api/photos", "POST /api/uploads", "POST /api/uploads/{upload_id}/process", "POST /api/lookalikes"]
  # Every route's throttle by kind: uploads analyse a photo, admin routes are for a few
  # organisers, other writes are deletes, reads are cheap.
  route_kinds = {
    for r, fn in local.routes : r => (
      contains(local.upload_paths, r) ? "upload" :
      (fn == "admin" || strcontains(r, "/recompute")) ? "admin" :
      startswith(r, "GET ") ? "read" : "write"
    )
  }

  # API Gateway ends every request at 30 s, so the HTTP functions stop at 29 s; the
  # recompute runs only on the schedule and may take longer.
  functions = {
    photos    = { command = "functions.aws.photos", memory = 3008, timeout = 29 }
    catalog   = { command = "functions.aws.catalog", memory = 2048, timeout = 29 }
    averages  = { command = "functions.aws.averages", memory = 1024, timeout = 29 }
    admin     = { command = "functions.aws.admin", memory = 512, timeout = 29 }
    recompute = { command = "functions.aws.averages", memory = 3008, timeout = 300 }
  }
  http_functions = { for k, v in local.functions : k => v if k != "recompute" }

  # Plain settings only: secrets come from the Secrets Manager secret at start.
  # A managed FalkorDB's URL may carry a password: left empty here, it comes from the app
  # secret's HUCHU_GRAPH_URL instead (production refuses to start without one).
  environment = merge(local.graph_url == "" ? {} : { HUCHU_GRAPH_URL = local.graph_url }, {
    HUCHU_PRODUCTION           = "true"
    HUCHU_DATA_DIR             = "/tmp/huchu"
    HUCHU_ENGINE               = var.engine
    HUCHU_QDRANT_URL           = local.qdrant_url
    HUCHU_S3_BUCKET            = aws_s3_bucket.images.bucket
    HUCHU_S3_REGION            = var.region
    HUCHU_INFERENCE_URL        = var.inference_url
    HUCHU_CORS_ORIGINS         = local.site_origin
    HUCHU_SITE_URL             = local.site_origin
    HUCHU_MAX_UPLOAD_BYTES     = tostring(local.max_bytes)
    HUCHU_RECOMPUTE_SECONDS    = "0"
    HUCHU_SECRETS_ARN          = aws_secretsmanager_secret.app.arn
    HUCHU_ORIGIN_REQUIRED      = "true"
    AWS_STS_REGIONAL_ENDPOINTS = "regional"
  })
}

module "qdrant" {
  count              = var.qdrant == "ec2" ? 1 : 0
  source             = "./modules/store_instance"
  name               = "${var.name}-qdrant"
  image              = local.compose.services.qdrant.image
  port               = 6333
  data_path          = "/qdrant/storage"
  environment        = { QDRANT__TELEMETRY_DISABLED = "true" }
  secret_environment = { QDRANT__SERVICE__API_KEY = "HUCHU_QDRANT_API_KEY" }
  instance_type      = var.qdrant_instance_type
  volume_gb          = var.qdrant_volume_gb
  vpc_id             = aws_vpc.main.id
  subnet_id          = aws_subnet.private[0].id
  client_sg_id       = aws_security_group.functions.id
  secret_arn         = aws_secretsmanager_secret.app.arn
  kms_key_arn        = aws_kms_key.main.arn
}

module "falkordb" {
  count     = var.graph == "ec2" ? 1 : 0
  source    = "./modules/store_instance"
  name      = "${var.name}-falkordb"
  image     = local.compose.services.falkordb.image
  port      = 6379
  data_path = "/var/lib/falkordb/data"
  # The functions send the same password (HUCHU_GRAPH_PASSWORD from the app secret).
  redis_password_key = "HUCHU_GRAPH_PASSWORD"
  instance_type      = var.graph_instance_type
  volume_gb          = var.graph_volume_gb
  vpc_id             = aws_vpc.main.id
  subnet_id          = aws_subnet.private[0].id
  client_sg_id       = aws_security_group.functions.id
  secret_arn         = aws_secretsmanager_secret.app.arn
  kms_key_arn        = aws_kms_key.main.arn
}
