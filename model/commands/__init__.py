"""Subcommands of ``mtsim`` that drive the model directly: ``run`` and ``schema``."""
