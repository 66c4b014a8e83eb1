"""The `phonebank` command and its subcommands."""
