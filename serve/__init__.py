"""GPU-heavy stages as autoscaling Ray Serve deployments (detect now; swap and restore later)."""
