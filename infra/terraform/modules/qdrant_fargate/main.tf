# Qdrant on ECS Fargate: one task (Qdrant's storage is not shared between writers), its
# storage on encrypted EFS, reachable only from the functions' security group at
# qdrant.<name>.internal:6333, with the API key from the app secret.

data "aws_region" "current" {}

resource "aws_security_group" "qdrant" {
  name        = "${var.name}-qdrant"
  description = "Qdrant: REST from the functions only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "REST from the functions"
    from_port       = 6333
    to_port         = 6333
    protocol        = "tcp"
    security_groups = [var.client_sg_id]
  }
  egress {
    description = "Image pulls (HTTPS)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    description = "EFS (NFS) inside the VPC"
    from_port   = 2049
    to_port     = 2049
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }
}

resource "aws_security_group" "efs" {
  name        = "${var.name}-qdrant-efs"
  description = "Qdrant storage: NFS from the Qdrant task only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "NFS from Qdrant"
    from_port       = 2049
    to_port         = 2049
    protocol        = "tcp"
    security_groups = [aws_security_group.qdrant.id]
  }
}

resource "aws_efs_file_system" "storage" {
  encrypted  = true
  kms_key_id = var.kms_key_arn
  tags       = { Name = "${var.name}-qdrant" }
}

resource "aws_efs_backup_policy" "storage" {
  file_system_id = aws_efs_file_system.storage.id
  backup_policy {
    status = "ENABLED"
  }
}

resource "aws_efs_mount_target" "storage" {
  count           = length(var.subnet_ids)
  file_system_id  = aws_efs_file_system.storage.id
  subnet_id       = var.subnet_ids[count.index]
  security_groups = [aws_security_group.efs.id]
}

resource "aws_efs_access_point" "storage" {
  file_system_id = aws_efs_file_system.storage.id
  posix_user {
    uid = 1000
    gid = 1000
  }
  root_directory {
    path = "/qdrant"
    creation_info {
      owner_uid   = 1000
      owner_gid   = 1000
      permissions = "0750"
    }
  }
}

resource "aws_cloudwatch_log_group" "qdrant" {
  #checkov:skip=CKV_AWS_338:operational logs, kept var.log_retention_days like the functions' logs
  name              = "/huchu/${var.name}/qdrant"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_ecs_cluster" "this" {
  name = "${var.name}-qdrant"
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Execution role: pull the image, write logs, read the API key. Task role: EFS only.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-qdrant-execution"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "execution" {
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "${aws_cloudwatch_log_group.qdrant.arn}:*" },
      { Effect = "Allow", Action = "secretsmanager:GetSecretValue", Resource = var.api_key_secret_arn },
      { Effect = "Allow", Action = "kms:Decrypt", Resource = var.kms_key_arn },
    ]
  })
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-qdrant-task"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "task" {
  role = aws_iam_role.task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
      Resource  = aws_efs_file_system.storage.arn
      Condition = { StringEquals = { "elasticfilesystem:AccessPointArn" = aws_efs_access_point.storage.arn } }
    }]
  })
}

resource "aws_ecs_task_definition" "qdrant" {
  family                   = "${var.name}-qdrant"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode([{
    name                   = "qdrant"
    image                  = var.image
    essential              = true
    readonlyRootFilesystem = true
    user                   = "1000:1000"
    portMappings           = [{ containerPort = 6333, protocol = "tcp" }]
    environment = [
      { name = "QDRANT__STORAGE__STORAGE_PATH", value = "/qdrant/storage" },
      { name = "QDRANT__STORAGE__SNAPSHOTS_PATH", value = "/qdrant/storage/snapshots" },
      { name = "QDRANT__STORAGE__TEMP_PATH", value = "/qdrant/storage/tmp" },
      { name = "QDRANT__TELEMETRY_DISABLED", value = "true" },
    ]
    secrets     = [{ name = "QDRANT__SERVICE__API_KEY", valueFrom = "${var.api_key_secret_arn}:HUCHU_QDRANT_API_KEY::" }]
    mountPoints = [{ sourceVolume = "storage", containerPath = "/qdrant/storage", readOnly = false }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.qdrant.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "qdrant"
      }
    }
  }])

  volume {
    name = "storage"
    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.storage.id
      transit_encryption = "ENABLED"
      authorization_config {
        access_point_id = aws_efs_access_point.storage.id
        iam             = "ENABLED"
      }
    }
  }
}

resource "aws_service_discovery_private_dns_namespace" "this" {
  name = "${var.name}.internal"
  vpc  = var.vpc_id
}

resource "aws_service_discovery_service" "qdrant" {
  name = "qdrant"
  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.this.id
    dns_records {
      ttl  = 10
      type = "A"
    }
  }
}

resource "aws_ecs_service" "qdrant" {
  name             = "qdrant"
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.qdrant.arn
  desired_count    = 1
  launch_type      = "FARGATE"
  platform_version = "LATEST"
  # One writer at a time on the storage: stop the old task before starting the new one.
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.qdrant.id]
    assign_public_ip = false
  }

  service_registries {
    registry_arn = aws_service_discovery_service.qdrant.arn
  }

  depends_on = [aws_efs_mount_target.storage]
}
