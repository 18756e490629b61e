"""Command families with their own module: add_parser(subparsers, common) and run(args) -> int."""
