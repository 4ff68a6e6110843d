"""One module per ``mtsim`` subcommand: ``register(subparsers)``, ``handle(args)``.

See model/cli.py for the pattern; ``common.py`` holds what several commands share
(executor options, SIGTERM as an interrupt).
"""
