# Three private buckets: images (photos, portraits, averages; staging/ for direct uploads),
# site (the static page, read by CloudFront only) and logs (access logs of both).

resource "aws_kms_key" "main" {
  description         = "${var.name}: images, logs, secrets, queues, image repository"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "Account"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${local.account}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "Services"
        Effect    = "Allow"
        Principal = { Service = ["logs.${var.region}.amazonaws.com", "delivery.logs.amazonaws.com", "sns.amazonaws.com", "cloudwatch.amazonaws.com"] }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource  = "*"
      },
    ]
  })
}

resource "aws_s3_bucket" "images" {
  #checkov:skip=CKV_AWS_144:photos are deleted on the participant's request; a replica elsewhere would keep them
  #checkov:skip=CKV2_AWS_62:nothing reacts to object events: uploads are processed by an explicit API call
  #checkov:skip=CKV_AWS_21:versioning off on purpose: delete-my-photos must leave no old versions behind
  bucket = "${var.name}-images-${local.account}"
}

resource "aws_s3_bucket_versioning" "images" {
  # Suspended on purpose: delete-my-photos must leave no old versions behind.
  bucket = aws_s3_bucket.images.id
  versioning_configuration {
    status = "Suspended"
  }
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
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "images" {
  bucket = aws_s3_bucket.images.id
  rule {
    # Direct uploads land under staging/ and are processed (then deleted) at once; a
    # photo never processed is gone the next day.
    id     = "staging-expires"
    status = "Enabled"
    filter {
      prefix = "staging/"
    }
    expiration {
      days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# The page's browser PUTs photos straight to the bucket with a presigned URL.
resource "aws_s3_bucket_cors_configuration" "images" {
  bucket = aws_s3_bucket.images.id
  cors_rule {
    allowed_methods = ["PUT", "GET"]
    allowed_origins = concat([local.site_origin], [for a in var.site_aliases : "https://${a}"])
    allowed_headers = ["content-type", "content-length"]
    max_age_seconds = 600
  }
}

resource "aws_s3_bucket_logging" "images" {
  bucket        = aws_s3_bucket.images.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/images/"
}

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:this is the access-log bucket itself
  #checkov:skip=CKV_AWS_144:access logs stay in the event's region and expire after var.log_retention_days
  #checkov:skip=CKV2_AWS_62:nothing reacts to new log files
  #checkov:skip=CKV_AWS_145:S3 server access logs and CloudFront standard logs can only be written to SSE-S3 buckets
  bucket = "${var.name}-logs-${local.account}"
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  #checkov:skip=CKV2_AWS_65:CloudFront's standard logs are delivered with an ACL, which needs BucketOwnerPreferred
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "logs-expire"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}
