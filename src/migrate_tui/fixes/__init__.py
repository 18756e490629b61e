"""Planning change-sets: YAML edits and patches, asset Dockerfiles, compose and fetched-model splits."""
