"""What parsed files mean: rule context, image/Dockerfile links, init-copy semantics, Dockerfile stages."""
