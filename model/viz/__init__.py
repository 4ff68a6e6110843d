"""The browser visualization for students: ``mtsim viz`` (Mesa SolaraViz).

Modules:
    app: the Solara page (``StudentMarket`` model, components, ``Page``).
    drawing: network layout and SVG pictures (no Solara; testable on its own).
    command: the ``mtsim viz`` subcommand.
    assets: offline copies of the browser files Solara loads from a CDN.

Importing this package imports nothing heavy; import ``model.viz.app`` for the page.
"""
