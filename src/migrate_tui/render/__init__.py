"""Showing results: diffs, output formats, patch directories, the savings report."""
