"""Text to structures: YAML documents and PodSpecs, Dockerfiles, shell commands, image references."""
