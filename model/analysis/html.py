"""HTML pages from Jinja2 templates: the one place that turns results into a page.

Templates live in ``model/templates/`` (shipped with the package); every page extends
``base.html`` (the shared style sheet and title). Autoescaping is on, so text from
scenario files and results is escaped once, by the template engine; markup built in
Python must be passed through :func:`markup` explicitly.

Filters available in every template:

- ``png``: a PNG file path -> an ``<img>`` with the picture embedded (base64), so a
  report is one self-contained file; ``{{ path | png("alt text") }}``.
- ``swatch``: a colour -> a small coloured square for legends.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape


def png(path: Path | str, alt: str = "") -> Markup:
    """Return an ``<img>`` tag with the PNG file embedded as a data URL."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return Markup('<img src="data:image/png;base64,{}" alt="{}">').format(data, alt)


def swatch(color: str) -> Markup:
    """Return a small square of ``color`` (legend marker)."""
    return Markup('<span class="swatch" style="background:{}"></span>').format(color)


def markup(html_text: str) -> Markup:
    """Mark ``html_text`` as safe HTML (only for markup built from escaped parts)."""
    return Markup(html_text)


def esc(value: Any) -> str:
    """Escape ``value`` for HTML text or an attribute (for markup built in Python)."""
    return str(escape(str(value)))


@cache
def environment() -> jinja2.Environment:
    """Return the package's template environment (autoescaping, strict undefined names)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("model", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["png"] = png
    env.filters["swatch"] = swatch
    return env


def render_page(template: str, **context: Any) -> str:
    """Render ``model/templates/<template>`` with ``context`` into an HTML string."""
    return environment().get_template(template).render(**context)
