# `terraform test` plans the stack against a mocked AWS provider (no account, no network):
# tests/infra/test_terraform.py runs it where Terraform and the AWS provider are installed.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\": \"2012-10-17\", \"Statement\": []}" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "ap-northeast-2" }
  }
  mock_data "aws_subnet" {
    defaults = { availability_zone = "ap-northeast-2a" }
  }
}

mock_provider "aws" {
  alias = "us_east_1"
}

variables {
  image_tag     = "v1"
  origin_secret = "0123456789abcdef0123456789abcdef"
}

run "by_default_the_vectors_and_the_graph_get_instances_with_block_storage" {
  command = plan

  assert {
    condition     = length(module.qdrant) == 1 && length(module.falkordb) == 1
    error_message = "an empty account must get a Qdrant and a FalkorDB"
  }
  assert {
    condition     = module.qdrant[0].image == yamldecode(file("../../docker-compose.yml")).services.qdrant.image
    error_message = "Qdrant's image must be the one compose runs"
  }
  assert {
    condition     = module.falkordb[0].image == yamldecode(file("../../docker-compose.yml")).services.falkordb.image
    error_message = "FalkorDB's image must be the one compose runs"
  }
  assert {
    condition     = module.falkordb[0].redis_password_key == "HUCHU_GRAPH_PASSWORD"
    error_message = "FalkorDB must ask for the password the functions read from the app secret"
  }
  assert {
    condition     = startswith(aws_lambda_function.fn["catalog"].environment[0].variables["HUCHU_GRAPH_URL"], "redis://")
    error_message = "the functions must be told where the graph is"
  }
  assert {
    condition     = startswith(aws_lambda_function.fn["photos"].environment[0].variables["HUCHU_QDRANT_URL"], "http://")
    error_message = "the functions must be told where the vectors are"
  }
  assert {
    condition = alltrue([for port in [6333, 6379] : anytrue([
      for e in aws_security_group.functions.egress : e.from_port == port && contains(e.cidr_blocks, var.vpc_cidr)
    ])])
    error_message = "the functions' security group must let them reach Qdrant and FalkorDB"
  }
}

run "managed_stores_at_their_urls" {
  command = plan

  variables {
    qdrant     = "cloud"
    qdrant_url = "https://xyz.cloud.qdrant.io:6333"
    graph      = "url"
    graph_url  = ""
    graph_port = 55000
  }

  assert {
    condition     = length(module.qdrant) == 0 && length(module.falkordb) == 0
    error_message = "managed stores need no instances"
  }
  assert {
    condition     = aws_lambda_function.fn["photos"].environment[0].variables["HUCHU_QDRANT_URL"] == "https://xyz.cloud.qdrant.io:6333"
    error_message = "the managed Qdrant's URL"
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.fn["photos"].environment[0].variables), "HUCHU_GRAPH_URL")
    error_message = "a graph URL with a password comes from the app secret, not the environment"
  }
  assert {
    condition     = anytrue([for e in aws_security_group.functions.egress : e.from_port == 55000])
    error_message = "the managed FalkorDB's port must be open"
  }
}

run "a_managed_qdrant_without_its_url_is_refused" {
  command = plan

  variables {
    qdrant     = "cloud"
    qdrant_url = ""
  }

  expect_failures = [aws_lambda_function.fn]
}
