# CloudFront's web ACL (us-east-1), for the page and the API (/api/* through the same
# distribution): AWS's common and known-bad-input rules, a per-address rate well above one
# participant's use of the page, and per-client limits on the API and on uploads, so one
# client cannot use the whole upload budget (API Gateway's throttles are per route).

resource "aws_wafv2_web_acl" "site" {
  provider = aws.us_east_1
  name     = "${var.name}-site"
  scope    = "CLOUDFRONT"

  default_action {
    allow {}
  }

  rule {
    name     = "common"
    priority = 1
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesCommonRuleSet"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "common"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "known-bad-inputs"
    priority = 2
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "known-bad-inputs"
      sampled_requests_enabled   = true
    }
  }

  rule {
    # A whole venue may share one address behind its Wi-Fi; the limit is per 5 minutes.
    name     = "per-address"
    priority = 3
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit              = 20000
        aggregate_key_type = "IP"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "per-address"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "api-per-address"
    priority = 4
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit              = var.api_requests_per_address
        aggregate_key_type = "IP"
        scope_down_statement {
          byte_match_statement {
            search_string         = "/api/"
            positional_constraint = "STARTS_WITH"
            field_to_match {
              uri_path {}
            }
            text_transformation {
              priority = 0
              type     = "NONE"
            }
          }
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "api-per-address"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "uploads-per-address"
    priority = 5
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit              = var.uploads_per_address
        aggregate_key_type = "IP"
        scope_down_statement {
          and_statement {
            statement {
              regex_match_statement {
                regex_string = "^/api/(photos|uploads)(/[^/]+/process)?$"
                field_to_match {
                  uri_path {}
                }
                text_transformation {
                  priority = 0
                  type     = "NONE"
                }
              }
            }
            statement {
              byte_match_statement {
                search_string         = "POST"
                positional_constraint = "EXACTLY"
                field_to_match {
                  method {}
                }
                text_transformation {
                  priority = 0
                  type     = "NONE"
                }
              }
            }
          }
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "uploads-per-address"
      sampled_requests_enabled   = true
    }
  }

  rule {
    # A participant's uploads: address and owner token together (a venue shares the
    # address; the page sends its token once it has one). A request without a token is
    # counted by the per-address rules only.
    name     = "uploads-per-client"
    priority = 6
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit              = var.uploads_per_client
        aggregate_key_type = "CUSTOM_KEYS"
        custom_key {
          ip {}
        }
        custom_key {
          header {
            name = "x-huchu-owner"
            text_transformation {
              priority = 0
              type     = "NONE"
            }
          }
        }
        scope_down_statement {
          and_statement {
            statement {
              regex_match_statement {
                regex_string = "^/api/(photos|uploads)(/[^/]+/process)?$"
                field_to_match {
                  uri_path {}
                }
                text_transformation {
                  priority = 0
                  type     = "NONE"
                }
              }
            }
            statement {
              byte_match_statement {
                search_string         = "POST"
                positional_constraint = "EXACTLY"
                field_to_match {
                  method {}
                }
                text_transformation {
                  priority = 0
                  type     = "NONE"
                }
              }
            }
          }
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "uploads-per-client"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-site"
    sampled_requests_enabled   = true
  }
}

resource "aws_cloudwatch_log_group" "waf" {
  #checkov:skip=CKV_AWS_338:privacy: logs with participants' addresses are kept var.log_retention_days (30 by default), not a year
  #checkov:skip=CKV_AWS_158:the key lives in the main region; WAF logs in us-east-1 use CloudWatch's own encryption
  provider          = aws.us_east_1
  name              = "aws-waf-logs-${var.name}-site"
  retention_in_days = var.log_retention_days
}

resource "aws_wafv2_web_acl_logging_configuration" "site" {
  provider                = aws.us_east_1
  resource_arn            = aws_wafv2_web_acl.site.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]
}
