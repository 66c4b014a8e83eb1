from phonebank.cli.main import main

raise SystemExit(main())
