output "url" {
  description = "Qdrant's REST address inside the VPC."
  value       = "http://qdrant.${aws_service_discovery_private_dns_namespace.this.name}:6333"
}

output "security_group_id" {
  value = aws_security_group.qdrant.id
}
