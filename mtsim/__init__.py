"""mtsim's Python API under its own name, which a file of yours called ``model.py`` cannot hide.

::

    import mtsim

    scenario = mtsim.load_scenario("scenarios/baseline.yaml", ["population.consumers=20000"])
    table = mtsim.run_model(scenario, seed=1)   # one row per week, one column per metric

The names are those of the ``model`` package's facade (model/__init__.py), where the
code lives: ``mtsim.load_scenario`` is ``model.load_scenario``, and ``mtsim.__all__``
lists them. ``import mtsim`` is as light as ``import model``: each name is imported on
first use.

The code itself imports ``model`` by name. In a folder with a ``model.py`` (a Mesa
tutorial's, say), ``from model import load_scenario`` finds that file first and fails;
``import mtsim`` loads mtsim's own ``model`` package from its installed folder
instead, so the API works there. Two modules cannot share the name ``model`` in one
Python process, so:

- after ``import mtsim``, ``import model`` in the same process gives mtsim's package;
- when another ``model`` is already imported, ``import mtsim`` raises ImportError with
  one line naming that file and what to do;
- worker processes that start a fresh Python (the ``spawn`` start method of macOS and
  Windows, Dask workers) look ``model`` up again from the working folder: run
  sweeps with several workers from a folder without a ``model.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACKAGE = Path(__file__).resolve().parent.parent / "model"
"""mtsim's own ``model`` package: the folder next to this one."""


def _shadowed(found: str) -> ImportError:
    return ImportError(
        f"mtsim: the name 'model' is taken by {found}, not mtsim's package ({PACKAGE}); "
        "rename that file (or import mtsim before it is imported)"
    )


def _model_package() -> ModuleType:
    """Return mtsim's ``model`` package: the one imported, or the one next to this folder.

    Raises:
        ImportError: another module called ``model`` is imported already.
    """
    loaded = sys.modules.get("model")
    if loaded is not None:
        if getattr(loaded, "__mtsim__", False):
            return loaded
        raise _shadowed(getattr(loaded, "__file__", None) or repr(loaded))
    own = PACKAGE / "__init__.py"
    spec = importlib.util.find_spec("model")  # what `import model` would import
    found = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    if found == own or not own.is_file():
        return importlib.import_module("model")
    spec = importlib.util.spec_from_file_location(
        "model", own, submodule_search_locations=[str(PACKAGE)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules["model"] = package
    try:
        spec.loader.exec_module(package)
    except BaseException:
        del sys.modules["model"]
        raise
    return package


_model = _model_package()
if not getattr(_model, "__mtsim__", False):
    raise _shadowed(getattr(_model, "__file__", None) or repr(_model))

__version__: str = _model.__version__
__all__ = list(_model.__all__)
UserError = _model.UserError


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module 'mtsim' has no attribute {name!r}")
    value = getattr(_model, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
