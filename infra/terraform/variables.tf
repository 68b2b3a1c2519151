variable "region" {
  type    = string
  default = "ap-northeast-2"
}

variable "name" {
  description = "Prefix for every resource."
  type        = string
  default     = "huchu"
}

variable "image_tag" {
  description = "Tag of the Lambda image (lambda.Dockerfile) pushed to this stack's ECR repository."
  type        = string
}

variable "qdrant" {
  description = "Where the vectors live: \"cloud\" (Qdrant Cloud, qdrant_url) or \"fargate\" (ECS Fargate with EFS, in this VPC)."
  type        = string
  default     = "cloud"
  validation {
    condition     = contains(["cloud", "fargate"], var.qdrant)
    error_message = "qdrant must be cloud or fargate."
  }
}

variable "qdrant_url" {
  description = "The Qdrant Cloud cluster URL (qdrant = \"cloud\"); its API key is the secret's HUCHU_QDRANT_API_KEY."
  type        = string
  default     = ""
}

variable "qdrant_image" {
  description = "Qdrant's image for qdrant = \"fargate\" (the version compose runs)."
  type        = string
  default     = "qdrant/qdrant:v1.12.6"
}

variable "graph_url" {
  description = "A FalkorDB server for the look-alike graph (redis://host:port)."
  type        = string
}

variable "inference_url" {
  description = "The GPU inference app (Ray Serve from the KubeRay manifest, behind an internal load balancer); empty means in-function inference."
  type        = string
  default     = ""
}

variable "inference_cidr" {
  description = "Addresses of the inference endpoint that the functions may reach (its VPC or peered network)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "inference_port" {
  type    = number
  default = 8000
}

variable "zones" {
  description = "Two availability zones of the region for the private subnets."
  type        = list(string)
  default     = ["ap-northeast-2a", "ap-northeast-2c"]
}

variable "vpc_cidr" {
  type    = string
  default = "10.40.0.0/16"
}

variable "engine" {
  description = "HUCHU_ENGINE for the functions."
  type        = string
  default     = "auto"
}

variable "max_upload_mib" {
  description = "Largest photo, in MiB, taken through the direct-to-bucket upload (the app's HUCHU_MAX_UPLOAD_BYTES)."
  type        = number
  default     = 10
}

variable "recompute_minutes" {
  type    = number
  default = 5
}

variable "log_retention_days" {
  description = "How long request logs (with participants' addresses) are kept."
  type        = number
  default     = 30
}

variable "alarm_email" {
  description = "Where alarms are mailed; empty keeps the topic without a subscription."
  type        = string
  default     = ""
}

variable "site_aliases" {
  description = "Custom domain names of the participant page (needs site_certificate_arn)."
  type        = list(string)
  default     = []
}

variable "site_certificate_arn" {
  description = "ACM certificate in us-east-1 for site_aliases; empty uses the *.cloudfront.net certificate."
  type        = string
  default     = ""
}

# Sized for 5,000 participants arriving within ten minutes (docs/serverless.md):
# about 8 uploads/s on average, 40/s at the QR-code peak, 30 API calls per participant.
variable "api_rate_limit" {
  description = "Steady requests per second over the whole stage."
  type        = number
  default     = 1000
}

variable "api_burst_limit" {
  type    = number
  default = 2000
}

variable "upload_rate_limit" {
  description = "Steady requests per second on each upload route."
  type        = number
  default     = 100
}

variable "upload_burst_limit" {
  type    = number
  default = 200
}

variable "concurrency" {
  description = "Reserved concurrency of each function (the account keeps at least 100 unreserved)."
  type        = map(number)
  default = {
    photos    = 150
    catalog   = 100
    averages  = 30
    admin     = 5
    recompute = 1
  }
}
