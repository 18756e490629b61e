"""Running the rules over a repository: engine, worker pool, result cache, baseline, suppressions."""
