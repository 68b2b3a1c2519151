variable "name" {
  description = "Resource name, for example huchu-qdrant."
  type        = string
}

variable "image" {
  description = "The server's container image (pinned in docker-compose.yml)."
  type        = string
}

variable "port" {
  type = number
}

variable "data_path" {
  description = "Where the server keeps its files inside the container (the EBS volume is mounted there)."
  type        = string
}

variable "environment" {
  description = "Plain container environment."
  type        = map(string)
  default     = {}
}

variable "secret_environment" {
  description = "Container variables read from keys of the app secret at boot (name => key)."
  type        = map(string)
  default     = {}
}

variable "redis_password_key" {
  description = "A key of the app secret: the server (FalkorDB) then runs with --requirepass set to it, and refuses to start without it."
  type        = string
  default     = ""
}

variable "vpc_id" {
  type = string
}

variable "subnet_id" {
  type = string
}

variable "client_sg_id" {
  description = "Security group of the functions, the only clients."
  type        = string
}

variable "secret_arn" {
  type = string
}

variable "kms_key_arn" {
  type = string
}

variable "instance_type" {
  type    = string
  default = "t3.large"
}

variable "volume_gb" {
  type    = number
  default = 50
}

variable "snapshot_days" {
  description = "Daily snapshots of the data volume are kept this many days."
  type        = number
  default     = 7
}
