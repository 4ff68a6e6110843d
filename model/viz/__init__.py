"""The browser visualization for students: ``mtsim viz`` and the page inside Jupyter.

Modules:
    app: the Solara page (``StudentMarket`` model, components, ``MtsimPage``, ``Page``).
    drawing: network layout and SVG pictures (no Solara; testable on its own).
    paths: where the page finds scenarios (light; used by ``mtsim viz`` to check input).
    server: the web server process (Solara; loopback Host headers and same-origin
        websockets only).
    assets: offline copies of the browser files Solara loads from a CDN.

The command itself is model/commands/viz.py. Importing this package imports nothing
heavy; ``from model.viz import MtsimPage`` (or ``StudentMarket``) imports the page::

    from model.viz import MtsimPage
    MtsimPage(scenario="scenarios/baseline.yaml")   # renders in Jupyter (2,000 consumers)
"""

from __future__ import annotations

__all__ = ["MtsimPage", "Page", "StudentMarket"]


def __getattr__(name: str):
    if name in __all__:
        from model.viz import app

        return getattr(app, name)
    raise AttributeError(f"module 'model.viz' has no attribute {name!r}")
