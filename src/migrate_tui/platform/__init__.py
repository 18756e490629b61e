"""The cluster being targeted: Kubernetes/runtime versions, schema validation, digests."""
