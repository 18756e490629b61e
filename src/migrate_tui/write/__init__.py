"""Writing change-sets: all-or-nothing, atomic, validated, mode/BOM/line endings kept."""
