"""Plain data every stage shares: findings, fixes, edits, diagnostics and their typed reasons."""
