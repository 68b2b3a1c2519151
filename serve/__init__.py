"""GPU-heavy stages as autoscaling, batching Ray Serve deployments (``serve.app:build_app``)."""
