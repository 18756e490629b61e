"""Helpers for the verify oracle (tests/test_verify_oracle.py): image trees made from a manifest's
copy paths, OCI layouts written with the project's own layer writer, and one function that runs
`migrate-tui check --fix`, `migrate-tui build` and `migrate-tui verify` the way a user would."""
