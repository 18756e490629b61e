from migrate_tui.cli import main

raise SystemExit(main())
