output "address" {
  description = "The server's private address (host:port) inside the VPC."
  value       = "${aws_instance.this.private_ip}:${var.port}"
}

output "security_group_id" {
  value = aws_security_group.this.id
}

output "image" {
  value = var.image
}

output "redis_password_key" {
  description = "The app secret's key the server takes its password from (empty: none)."
  value       = var.redis_password_key
}
