"""The scanned repository: its configuration, its files, reading them, path safety."""
