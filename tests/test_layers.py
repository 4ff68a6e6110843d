"""The layers of ``model/`` (docs/architecture.md, "Layers"), checked on every import.

Every import in every module of the package is read from its syntax tree: at the top
and inside functions (also those under ``if TYPE_CHECKING:``), ``import x``,
``from x import y``, relative imports, and ``importlib.import_module("...")`` or
``__import__("...")`` with a literal name. Then:

- no module imports a higher layer (and ``viz`` never imports ``commands`` or ``cli``;
  ``commands`` import ``viz`` only inside a function, for ``mtsim viz``);
- no import cycle between folders; the model core counts as one folder (its files may
  import each other), every other folder of ``model/`` as one, ``cli.py`` as one;
- the model core never imports a harness folder.

``model/__init__.py`` is the public facade: it may import from any layer, and
``from model import NAME`` counts as an import of the module that defines NAME (its
``_LAZY`` table). The checked package is this checkout's ``model/``, or the folder in
the environment variable ``MTSIM_LAYERS_ROOT`` (to try the test on a copy).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: the folder (or ``core``, or ``cli``) -> (layer, name in messages); low layers first
LAYERS: dict[str, tuple[int, str]] = {
    "core": (1, "core"),
    "analysis": (2, "analysis"),
    "experiment": (3, "experiment"),
    "decision": (4, "decision"),
    "validation": (4, "validation"),
    "workflows": (5, "workflows"),
    "commands": (6, "commands"),
    "viz": (6, "viz"),
    "cli": (6, "cli"),
}

#: folders of model/ that belong to the core (with its top-level modules)
CORE_FOLDERS = ("mechanisms",)

#: (importing unit, imported unit) that are forbidden although the layers allow them
FORBIDDEN = {("viz", "commands"), ("viz", "cli"), ("commands", "cli")}

#: (importing unit, imported unit) allowed only inside a function
ONLY_INSIDE_FUNCTIONS = {("commands", "viz")}


@dataclass(frozen=True)
class Import:
    """One import of a ``model`` module by a module of the package.

    Attributes:
        file: the importing file, relative to the folder that holds ``model/``.
        line: its line.
        text: the import as written (one line).
        source: the importing unit (``core``, a folder name, ``cli`` or ``facade``).
        target: the module imported (``model.analysis.stats``).
        unit: the imported unit.
        in_function: written inside a function.
    """

    file: str
    line: int
    text: str
    source: str
    target: str
    unit: str
    in_function: bool


def package_root() -> Path:
    """The checked ``model/`` folder: ``MTSIM_LAYERS_ROOT`` or this checkout's."""
    return Path(os.environ.get("MTSIM_LAYERS_ROOT") or ROOT / "model").resolve()


def unit_of(module: str) -> str:
    """The unit of a dotted module name inside ``model``: core, a folder, cli or facade."""
    parts = module.split(".")
    if parts == ["model"]:
        return "facade"
    if len(parts) == 2 and parts[1] == "cli":
        return "cli"
    if parts[1] in CORE_FOLDERS:
        return "core"
    return parts[1] if parts[1] in LAYERS else ("core" if len(parts) == 2 else parts[1])


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _facade_names(root: Path) -> dict[str, str]:
    """The facade's public names -> module defining each (``_LAZY`` in model/__init__.py)."""
    tree = ast.parse((root / "__init__.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in targets):
                return dict(ast.literal_eval(node.value))
    return {}


def _is_module(root: Path, dotted: str) -> bool:
    path = root.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _literal_import_module(node: ast.Call) -> str | None:
    """The module of ``importlib.import_module("x")`` / ``import_module("x")`` /
    ``__import__("x")`` with a literal name, else None."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _targets(node: ast.AST, package: str, root: Path, facade: dict[str, str]) -> list[str]:
    """The ``model`` modules one import node imports (resolving relative imports)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, *([base] if base else [])])
        names = []
        for alias in node.names:
            full = f"{base}.{alias.name}"
            if base == "model" and alias.name in facade:
                names.append(facade[alias.name])
            elif _is_module(root, full):
                names.append(full)
            else:
                names.append(base)
    elif isinstance(node, ast.Call):
        literal = _literal_import_module(node)
        names = [literal] if literal else []
    else:
        return []
    return list(dict.fromkeys(n for n in names if n == "model" or n.startswith("model.")))


def _scan(path: Path, root: Path, facade: dict[str, str]) -> list[Import]:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    lines = text.splitlines()
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    source = "facade" if module == "model" else unit_of(module)
    file = str(path.relative_to(root.parent))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for target in _targets(node, package, root, facade):
            found.append(
                Import(
                    file=file,
                    line=node.lineno,
                    text=lines[node.lineno - 1].strip(),
                    source=source,
                    target=target,
                    unit=unit_of(target),
                    in_function=in_function,
                )
            )
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


def collect_imports(root: Path) -> list[Import]:
    """Every import of a ``model`` module in every ``.py`` file under ``root``."""
    facade = _facade_names(root)
    found: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        found += _scan(path, root, facade)
    return found


def _describe(imp: Import, why: str) -> str:
    return f"{imp.file}:{imp.line}: `{imp.text}` ({imp.target}): {why}"


def layer_violations(imports: list[Import]) -> list[str]:
    """Imports of a higher layer, of a forbidden unit, or of viz by commands at the top."""
    problems = []
    for imp in imports:
        if imp.source == "facade" or imp.unit == "facade" or imp.unit == imp.source:
            continue
        src, dst = LAYERS.get(imp.source), LAYERS.get(imp.unit)
        if src is None or dst is None:
            unknown = imp.source if src is None else imp.unit
            problems.append(_describe(imp, f"'{unknown}' has no layer (add it to LAYERS)"))
        elif dst[0] > src[0]:
            problems.append(
                _describe(
                    imp,
                    f"{src[1]} (layer {src[0]}) imports {dst[1]} (layer {dst[0]}), a higher layer",
                )
            )
        elif (imp.source, imp.unit) in FORBIDDEN:
            problems.append(_describe(imp, f"{src[1]} must never import {dst[1]}"))
        elif (imp.source, imp.unit) in ONLY_INSIDE_FUNCTIONS and not imp.in_function:
            problems.append(_describe(imp, f"{src[1]} imports {dst[1]} only inside a function"))
    return problems


def folder_cycles(imports: list[Import]) -> list[str]:
    """Import cycles between units (strongly connected components), each with its imports."""
    edges: dict[tuple[str, str], Import] = {}
    for imp in imports:
        if "facade" not in (imp.source, imp.unit) and imp.source != imp.unit:
            edges.setdefault((imp.source, imp.unit), imp)
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    problems = []
    for component in components:
        inside = [
            _describe(imp, f"{a} -> {b}")
            for (a, b), imp in sorted(edges.items())
            if a in component and b in component
        ]
        problems.append(f"cycle between {', '.join(component)}:\n    " + "\n    ".join(inside))
    return problems


def core_imports_of_harness(imports: list[Import]) -> list[str]:
    """Imports by the model core of anything outside it (harness, analysis, UI)."""
    return [
        _describe(imp, f"the model core imports {imp.unit}")
        for imp in imports
        if imp.source == "core" and imp.unit not in ("core", "facade")
    ]


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    found = collect_imports(package_root())
    assert found, f"no imports found under {package_root()}"
    return found


def test_no_module_imports_a_higher_layer(imports):
    problems = layer_violations(imports)
    assert not problems, "imports against the layers:\n  " + "\n  ".join(problems)


def test_no_import_cycle_between_folders(imports):
    problems = folder_cycles(imports)
    assert not problems, "folder-level import cycles:\n  " + "\n  ".join(problems)


def test_the_model_core_imports_no_harness(imports):
    problems = core_imports_of_harness(imports)
    assert not problems, "the model core imports the harness:\n  " + "\n  ".join(problems)


def test_every_folder_of_model_has_a_layer():
    root = package_root()
    folders = {p.parent.name for p in root.glob("*/__init__.py")}
    unknown = sorted(f for f in folders if f not in LAYERS and f not in CORE_FOLDERS)
    assert not unknown, f"folders of model/ without a layer in LAYERS: {unknown}"


def test_the_reader_sees_every_kind_of_import(tmp_path):
    """The scanner finds imports inside functions, relative ones and import_module calls."""
    package = tmp_path / "model"
    (package / "analysis").mkdir(parents=True)
    (package / "workflows").mkdir()
    (package / "__init__.py").write_text('_LAZY = {"run_model": "model.market"}\n')
    (package / "market.py").write_text("")
    for folder in ("analysis", "workflows"):
        (package / folder / "__init__.py").write_text("")
    (package / "workflows" / "run.py").write_text("")
    (package / "analysis" / "stats.py").write_text(
        "import importlib\n"
        "from . import stats\n"
        "from model import run_model\n"
        "def f():\n"
        "    from ..workflows import run\n"
        "    import model.workflows.run\n"
        "    importlib.import_module('model.workflows.run')\n"
    )
    found = collect_imports(package)
    seen = sorted((i.line, i.target, i.unit, i.in_function) for i in found)
    assert seen == [
        (2, "model.analysis.stats", "analysis", False),
        (3, "model.market", "core", False),
        (5, "model.workflows.run", "workflows", True),
        (6, "model.workflows.run", "workflows", True),
        (7, "model.workflows.run", "workflows", True),
    ]
    problems = layer_violations(found)
    assert len(problems) == 3
    assert problems[0] == (
        "model/analysis/stats.py:5: `from ..workflows import run` (model.workflows.run): "
        "analysis (layer 2) imports workflows (layer 5), a higher layer"
    )
