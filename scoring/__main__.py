"""Command line: `python -m scoring plan check PATH [--json]`, `criteria check`, `backup`, `restore`, `export`."""

from scoring.cli import main

raise SystemExit(main())
