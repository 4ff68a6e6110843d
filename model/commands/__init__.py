"""One module per ``mtsim`` subcommand: ``register(subparsers)``, ``handle(args)``.

See model/cli.py for the pattern.
"""
