"""Which file builds which image and which manifests run it (skaffold, compose, bake, CI systems, scripts)."""
