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
  description = "Where the vectors live: \"ec2\" (Qdrant on an instance with an EBS volume, in this VPC) or \"cloud\" (a managed Qdrant at qdrant_url)."
  type        = string
  default     = "ec2"
  validation {
    condition     = contains(["ec2", "cloud"], var.qdrant)
    error_message = "qdrant must be ec2 or cloud."
  }
}

variable "qdrant_url" {
  description = "The managed Qdrant cluster's URL (qdrant = \"cloud\"); its API key is the secret's HUCHU_QDRANT_API_KEY."
  type        = string
  default     = ""
}

variable "qdrant_instance_type" {
  description = "Qdrant's instance (qdrant = \"ec2\"): memory for the vectors and their index."
  type        = string
  default     = "r6i.large"
}

variable "qdrant_volume_gb" {
  type    = number
  default = 50
}

variable "graph" {
  description = "Where the look-alike graph lives: \"ec2\" (FalkorDB on an instance with an EBS volume, in this VPC) or \"url\" (a managed FalkorDB)."
  type        = string
  default     = "ec2"
  validation {
    condition     = contains(["ec2", "url"], var.graph)
    error_message = "graph must be ec2 or url."
  }
}

variable "graph_url" {
  description = "A managed FalkorDB (graph = \"url\"), redis://host:port or rediss://; one with a password goes in the app secret as HUCHU_GRAPH_URL instead (leave this empty)."
  type        = string
  default     = ""
}

variable "graph_port" {
  description = "The managed FalkorDB's port (graph = \"url\"), opened in the functions' security group."
  type        = number
  default     = 6379
}

variable "graph_instance_type" {
  type    = string
  default = "t3.large"
}

variable "graph_volume_gb" {
  type    = number
  default = 20
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

variable "route_limits" {
  description = "Steady requests per second and burst on each route, by kind (main.tf's route_kinds)."
  type        = map(object({ rate = number, burst = number }))
  default = {
    upload = { rate = 100, burst = 200 }
    read   = { rate = 500, burst = 1000 }
    write  = { rate = 50, burst = 100 }
    admin  = { rate = 5, burst = 10 }
  }
}

# Per address, per five minutes (AWS WAF's window), on /api/* through CloudFront.
variable "api_requests_per_address" {
  description = "API requests one address may make in five minutes (a venue's Wi-Fi is one address)."
  type        = number
  default     = 20000
}

variable "uploads_per_address" {
  description = "Uploads (POST /api/photos, /api/uploads) one address may make in five minutes."
  type        = number
  default     = 3000
}

variable "uploads_per_client" {
  description = "Uploads one participant (address and owner token) may make in five minutes."
  type        = number
  default     = 100
}

variable "origin_secret" {
  description = "Value of the X-Huchu-Origin header CloudFront adds to API requests; also put it in the app secret as HUCHU_ORIGIN_SECRET (openssl rand -hex 32)."
  type        = string
  sensitive   = true
  validation {
    condition     = length(var.origin_secret) >= 32
    error_message = "origin_secret must be at least 32 characters (openssl rand -hex 32)."
  }
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
