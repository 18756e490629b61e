"""migrate-tui: move Kubernetes workloads onto image volumes and FROM-scratch asset images."""

__version__ = "0.1.0"
