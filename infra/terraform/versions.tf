terraform {
  # 1.10: S3 state locking without DynamoDB (use_lockfile); 1.7: `terraform test` mocks.
  required_version = ">= 1.10"
  # The state (it holds origin_secret) lives in an encrypted, versioned S3 bucket of the
  # operator's: `terraform init -backend-config=...` (docs/serverless.md, step 1).
  backend "s3" {}
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { Project = var.name }
  }
}

# CloudFront's web ACL and certificate live in us-east-1, whatever the main region.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
  default_tags {
    tags = { Project = var.name }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
