variable "region" {
  type    = string
  default = "ap-northeast-2"
}

variable "name" {
  description = "Prefix for every resource."
  type        = string
  default     = "huchu"
}

variable "image_uri" {
  description = "ECR image of this repository (Dockerfile), used by every function."
  type        = string
}

variable "qdrant_url" {
  description = "A Qdrant server (Qdrant Cloud or self-hosted)."
  type        = string
}

variable "graph_url" {
  description = "A FalkorDB server for the look-alike graph (redis://host:port)."
  type        = string
}

variable "inference_url" {
  description = "The Ray Serve inference app (GPU), e.g. behind an internal load balancer."
  type        = string
}

variable "admin_token" {
  type      = string
  sensitive = true
}

variable "url_secret" {
  type      = string
  sensitive = true
}

variable "recompute_minutes" {
  type    = number
  default = 5
}
