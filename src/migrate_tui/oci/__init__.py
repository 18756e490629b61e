"""OCI images without a daemon: reproducible layouts, the distribution API, filesystem trees."""
