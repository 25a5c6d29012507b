"""The `policy` command: one module per subcommand, errors as lines, never a traceback."""
