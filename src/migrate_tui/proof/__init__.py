"""Proving a change-set on real images: what the init container leaves in the volume vs what the image volume shows."""
