variable "name" {
  type = string
}

variable "image" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "vpc_cidr" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "client_sg_id" {
  description = "Security group of the functions, the only clients."
  type        = string
}

variable "api_key_secret_arn" {
  description = "The app secret; its HUCHU_QDRANT_API_KEY becomes Qdrant's API key."
  type        = string
}

variable "kms_key_arn" {
  type = string
}

variable "log_retention_days" {
  type = number
}

variable "cpu" {
  type    = number
  default = 1024
}

variable "memory" {
  type    = number
  default = 4096
}
