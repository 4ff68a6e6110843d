"""Saving a run's full state at a week, and starting runs from it (a calibrated present).

A state file holds everything a :class:`model.market.MarketModel` needs to go on from
the end of week W exactly as the uninterrupted run would: resuming it and running to T
gives the same run table, group table and records, byte for byte, as running to T
at once.

What is saved, and how:

- every state group of the model (``model._states``: consumers, merchants, KOLs, the
  market's counters and ledger, the platform layer, and any group added later) is
  **walked field by field** (dataclasses, NumPy arrays and scalars, SciPy sparse
  matrices, dicts, lists, tuples, pandas frames, plain scalars): a field added to a
  state dataclass is saved without touching this module; a value of a kind the walker
  does not know is refused when saving, naming its path;
- the history the run table and the group table are made of (the DataCollector's
  values up to week W, the group table's rows, the per-consumer records);
- the social graph's tracked neighbour counts (``SocialGraph._tracked``; a cache that
  the next week would rebuild exactly, saved so that nothing rests on that argument);
- the schedule: the week W (Mesa's step counter and clock are advanced to it without
  running a step) and the policy levels at W (for reading; the timeline is a function
  of the scenario and the week);
- the random streams: every phase's generator is seeded from (seed, week, phase name)
  (model/week.py ``phase_generator``), so the seed is all the phases need; the model's
  own generators (``model.rng``, ``model.random``: used only to build the world and the
  Mesa space) are saved with their positions anyway;
- the scenario as canonical YAML text, its hash, the model version and the file
  format version.

What is rebuilt instead of saved: the world's static parts (the social graph, the
agents' Mesa objects, the price levels), by building the model from the saved
scenario and seed, and checked against a fingerprint of the saved graph;
``model.current`` (the parameters of week W - 1, from the timeline) and
``model.last_week`` (None after a resume: the signals of the last week are not state,
only the browser view and the pattern checks read them).

The file is one ``.npz`` archive (NumPy's zip of ``.npy`` arrays), read with
``allow_pickle=False``: entry ``meta`` is UTF-8 JSON (format, versions, week, seed,
scenario, the tree of the state with array references), every array is its own
entry. Nothing in it is executed when it is read; classes are looked up by name only
inside the ``model`` package and must be dataclasses.

A state is refused (:class:`StateError`, one line naming the file) when it is not an
mtsim state, has another format version, was saved by another version of the model
code (``model_version``: the package version and a hash of the model core's source),
or its scenario text does not match its hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from model.market import MarketModel
    from model.scenario import Scenario

FORMAT = "mtsim-state"
"""The ``format`` entry of every state file."""

FORMAT_VERSION = 1
"""Version of the file layout; a file of another version is refused."""

SAVED_MODEL_ATTRIBUTES: frozenset[str] = frozenset(
    {"consumers", "merchants", "kols", "market", "platforms", "_states", "datacollector",
     "_consumer_records", "_groups", "seed", "steps", "rng", "random", "agent_id_counter"}
)
"""MarketModel attributes whose values the state file carries (directly or through
``_states``)."""

REBUILT_MODEL_ATTRIBUTES: frozenset[str] = frozenset(
    {"_consumer_agents", "_first_consumer_id", "_market_scenario", "_placing", "_space",
     "current", "graph", "kol_agents", "merchant_agents", "last_week", "mesa_scenario",
     "n_regions", "parameters", "price_level", "region_names"}
)
"""MarketModel attributes rebuilt from the scenario and seed (static, or derived).

tests/test_state_io.py fails when the model gains an attribute in neither set: decide
whether the new attribute is state (add it to the saved ones and to :func:`capture`)
or rebuilt."""


class StateError(UserError):
    """A state file that cannot be used: one line naming the file and the problem."""


# ----------------------------------------------------------------------------- versions


def model_version() -> str:
    """Return the model's version: the package version and a hash of the core's source.

    The core is ``model/*.py`` and ``model/mechanisms/**.py`` (what a run computes
    with); a state saved by other core code is refused, since its continuation would
    not be the run that code makes.
    """
    import model

    root = Path(model.__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*root.glob("*.py"), *(root / "mechanisms").rglob("*.py")]):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return f"{model.__version__}+{digest.hexdigest()[:12]}"


def git_describe() -> str | None:
    """Return ``git describe --always --dirty`` of the source tree, None outside git."""
    import subprocess

    import model

    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(model.__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def scenario_text(scenario: Scenario) -> str:
    """Return the scenario's canonical YAML text (resolved, keys in the schema's order).

    Not sorted: the order of regions, channels, bands and platforms is part of the
    scenario (codes are positions).
    """
    import yaml

    return yaml.safe_dump(scenario.resolved(), sort_keys=False, allow_unicode=True)


def scenario_hash(scenario: Scenario) -> str:
    """Return the SHA-256 of the resolved scenario (JSON in the schema's key order)."""
    text = json.dumps(scenario.resolved(), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------- the walker


class _Writer:
    """Encodes a tree of values as JSON with references to arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, value: np.ndarray, path: str) -> str:
        if value.dtype == object:
            raise StateError(f"cannot save {path}: an array of Python objects")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.ascontiguousarray(value)
        return key

    def encode(self, value: Any, path: str) -> Any:
        import pandas as pd
        import scipy.sparse as sp

        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return value if -(2**63) <= value < 2**63 else {"t": "bigint", "v": str(value)}
        if isinstance(value, float):
            return {"t": "float", "v": value.hex()}
        if isinstance(value, np.ndarray):
            node = {"t": "arr", "k": self.array(value, path)}
            if not value.flags.writeable:
                node["ro"] = True
            return node
        if isinstance(value, np.generic):
            return {"t": "np", "k": self.array(np.asarray(value), path)}
        if sp.issparse(value):
            csr = value.tocsr()
            return {
                "t": "sparse",
                "cls": type(value).__name__,
                "shape": list(csr.shape),
                "data": self.array(csr.data, path),
                "indices": self.array(csr.indices, path),
                "indptr": self.array(csr.indptr, path),
            }
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {
                "t": "dc",
                "cls": _class_name(type(value), path),
                "f": {
                    f.name: self.encode(getattr(value, f.name), f"{path}.{f.name}")
                    for f in dataclasses.fields(value)
                },
            }
        if isinstance(value, dict):
            return {
                "t": "dict",
                "items": [
                    [self.encode(k, f"{path}[key]"), self.encode(v, f"{path}[{k!r}]")]
                    for k, v in value.items()
                ],
            }
        if isinstance(value, (list, tuple)):
            kind = "list" if isinstance(value, list) else "tuple"
            packed = _pack(value)
            if packed is not None:
                return {"t": kind, "pack": packed[0], "k": self.array(packed[1], path)}
            return {"t": kind, "v": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, pd.DataFrame):
            if not isinstance(value.index, pd.RangeIndex) or value.index.start != 0:
                raise StateError(f"cannot save {path}: a table without a plain 0..n-1 index")
            columns = []
            for name in value.columns:
                column = value[name]
                if isinstance(column.dtype, pd.CategoricalDtype):
                    columns.append({
                        "t": "cat",
                        "codes": self.array(column.cat.codes.to_numpy(), path),
                        "categories": self.encode(list(column.cat.categories), path),
                    })
                elif column.dtype.kind == "O" or not isinstance(column.dtype, np.dtype):
                    columns.append({
                        "t": "col",
                        "dtype": str(column.dtype),
                        "v": self.encode(column.tolist(), f"{path}.{name}"),
                    })
                else:
                    columns.append({"t": "arr", "k": self.array(column.to_numpy(), path)})
            return {"t": "frame", "names": [str(c) for c in value.columns], "cols": columns}
        raise StateError(
            f"cannot save {path}: a {type(value).__name__} (the state walker knows dataclasses, "
            "arrays, sparse matrices, dicts, lists, tuples, tables and scalars)"
        )


def _pack(values: list | tuple) -> tuple[str, np.ndarray] | None:
    """Pack a long list of plain floats or ints (all the same type) into one array."""
    if len(values) < 4:
        return None
    kinds = {type(v) for v in values}
    if kinds == {float}:
        return "float", np.array(values, dtype=np.float64)
    if kinds == {int} and all(-(2**63) <= v < 2**63 for v in values):
        return "int", np.array(values, dtype=np.int64)
    return None


def _class_name(cls: type, path: str) -> str:
    if not cls.__module__.startswith("model."):
        raise StateError(f"cannot save {path}: {cls.__qualname__} is not a class of the model")
    return f"{cls.__module__}:{cls.__qualname__}"


class _Reader:
    """Decodes what :class:`_Writer` encoded."""

    def __init__(self, arrays: Any, source: str) -> None:
        self.arrays = arrays
        self.source = source

    def array(self, key: str) -> np.ndarray:
        return np.array(self.arrays[key])  # a writeable copy

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, str)):
            return node
        if isinstance(node, list):
            raise StateError(f"{self.source}: damaged state (a bare list)")
        t = node["t"]
        if t == "float":
            return float.fromhex(node["v"])
        if t == "bigint":
            return int(node["v"])
        if t == "arr":
            value = self.array(node["k"])
            if node.get("ro"):
                value.flags.writeable = False
            return value
        if t == "np":
            return self.array(node["k"])[()]
        if t == "sparse":
            import scipy.sparse as sp

            cls = getattr(sp, node["cls"], None)
            if cls is None or not node["cls"].startswith("csr"):
                raise StateError(f"{self.source}: unknown sparse kind {node['cls']!r}")
            parts = tuple(self.array(node[k]) for k in ("data", "indices", "indptr"))
            return cls(parts, shape=tuple(node["shape"]))
        if t == "dc":
            cls = _find_class(node["cls"], self.source)
            obj = object.__new__(cls)
            for name, sub in node["f"].items():
                object.__setattr__(obj, name, self.decode(sub))
            return obj
        if t == "dict":
            return {self.decode(k): self.decode(v) for k, v in node["items"]}
        if t in ("list", "tuple"):
            if "pack" in node:
                values = self.arrays[node["k"]].tolist()
            else:
                values = [self.decode(v) for v in node["v"]]
            return values if t == "list" else tuple(values)
        if t == "cat":
            import pandas as pd

            return pd.Categorical.from_codes(
                self.array(node["codes"]), self.decode(node["categories"])
            )
        if t == "frame":
            import pandas as pd

            data = {}
            for name, col in zip(node["names"], node["cols"], strict=True):
                if isinstance(col, dict) and col.get("t") == "col":
                    data[name] = pd.Series(self.decode(col["v"]), dtype=col["dtype"])
                else:
                    data[name] = self.decode(col)
            return pd.DataFrame(data)
        raise StateError(f"{self.source}: damaged state (unknown entry kind {t!r})")


def _find_class(name: str, source: str) -> type:
    module, _, qualname = name.partition(":")
    if not module.startswith("model."):
        raise StateError(f"{source}: refers to {name!r}, not a class of the model")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise StateError(f"{source}: refers to {name!r}, which this model does not have") from None
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj)):
        raise StateError(f"{source}: {name!r} is not a state dataclass")
    return obj


# ----------------------------------------------------------------------------- saving


def capture(model: MarketModel) -> dict[str, Any]:
    """Return the model's state as a plain tree (what :func:`save_state` encodes)."""
    groups = model._groups
    group_rows = None
    if groups is not None:
        import pandas as pd

        group_rows = pd.concat(groups.rows, ignore_index=True) if groups.rows else None
    dc = model.datacollector
    return {
        "states": {name: state for name, state in model._states.items()},
        "model_vars": dc.model_vars,
        "collection_steps": list(getattr(dc, "_collection_steps", [])),
        "consumer_records": model._consumer_records,
        "groups": {"tracked": groups is not None, "rows": group_rows},
        "graph_tracked": model.graph._tracked,
        "rng": model.rng.bit_generator.state,
        "random": model.random.getstate(),
        "agent_id_counter": int(model.agent_id_counter),
    }


def graph_fingerprint(model: MarketModel) -> str:
    """Return a hash of the social graph's edges and the KOLs' followers (built at start)."""
    digest = hashlib.sha256()
    for array in (model.graph.source, model.graph.target, model.kols.region):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def save_state(model: MarketModel, path: str | Path) -> Path:
    """Write the model's full state at its current week to ``path`` (an ``.npz`` file).

    Written atomically (a temporary file moved into place). Returns the path.

    Raises:
        StateError: a state value of a kind the walker does not know (names its path).
    """
    from model.atomic_files import write_bytes_atomic

    writer = _Writer()
    tree = writer.encode(capture(model), "model")
    week = int(model.steps)
    levels = model.parameters.timeline.levels(week)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_version": model_version(),
        "git": git_describe(),
        "week": week,
        "seed": int(model.seed),
        "scenario_name": model.scenario.name,
        "scenario_yaml": scenario_text(model.scenario),
        "scenario_hash": scenario_hash(model.scenario),
        "graph_fingerprint": graph_fingerprint(model),
        "policy_levels": {k: float(v) for k, v in levels.items() if v},
        "state": tree,
    }
    buffer = io.BytesIO()
    blob = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    np.savez_compressed(buffer, meta=blob, **writer.arrays)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, buffer.getvalue())
    return path


# ----------------------------------------------------------------------------- reading


@dataclasses.dataclass
class SavedState:
    """A state file, read and checked (its arrays are read when the model is restored).

    Attributes:
        path: the file.
        meta: its ``meta`` entry (format, versions, week, seed, scenario, state tree).
    """

    path: Path
    meta: dict[str, Any]

    @property
    def week(self) -> int:
        """The week the state was saved at (the run's step counter)."""
        return int(self.meta["week"])

    @property
    def seed(self) -> int:
        """The seed of the run that was saved."""
        return int(self.meta["seed"])

    @property
    def scenario_hash(self) -> str:
        """The SHA-256 of the saved scenario."""
        return str(self.meta["scenario_hash"])

    def scenario(self, overrides: Any = ()) -> Scenario:
        """Return the saved scenario (validated by this schema), with ``--set`` overrides."""
        import yaml

        from model.scenario import scenario_from_dict

        data = yaml.safe_load(self.meta["scenario_yaml"])
        return scenario_from_dict(data, source=f"{self.path} (saved scenario)", overrides=overrides)


def read_state(path: str | Path) -> SavedState:
    """Read a state file's ``meta`` and check it can be resumed by this model.

    Raises:
        StateError: one line naming the file: missing or unreadable, not a state file,
            another format version, saved by another version of the model code, or a
            scenario text that does not match its hash.
    """
    path = Path(path)
    where = str(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(bytes(archive["meta"]).decode("utf-8"))
    except FileNotFoundError:
        raise StateError(f"{where}: no such state file") from None
    except IsADirectoryError:
        raise StateError(f"{where}: is a folder, not a state file") from None
    except PermissionError:
        raise StateError(f"{where}: cannot be read (permission denied)") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, EOFError):
        raise StateError(
            f"{where}: not an mtsim state file (save one with mtsim run --save-state WEEK)"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise StateError(f"{where}: not an mtsim state file (no 'format: {FORMAT}')")
    if meta.get("format_version") != FORMAT_VERSION:
        raise StateError(
            f"{where}: state format version {meta.get('format_version')!r}, this mtsim reads "
            f"version {FORMAT_VERSION}; save the state again with this mtsim"
        )
    here = model_version()
    if meta.get("model_version") != here:
        saved_git = f" (git {meta['git']})" if meta.get("git") else ""
        raise StateError(
            f"{where}: saved by mtsim {meta.get('model_version')}{saved_git}, this is {here}: "
            "a state is resumed only by the model code that saved it; save it again"
        )
    text = meta.get("scenario_yaml")
    if not isinstance(text, str):
        raise StateError(f"{where}: damaged state (no scenario)")
    saved = SavedState(path, meta)
    try:
        actual = scenario_hash(saved.scenario())
    except UserError as exc:
        raise StateError(f"{where}: its scenario no longer validates: {exc}") from None
    if actual != meta.get("scenario_hash"):
        raise StateError(
            f"{where}: scenario hash mismatch (file says {str(meta.get('scenario_hash'))[:12]}, "
            f"its scenario text gives {actual[:12]}): the scenario was changed"
        )
    return saved


POLICY_FILE_KEYS: frozenset[str] = frozenset({"name", "description", "policies"})
"""The keys of a policy file: what a run from a saved state may add to the saved scenario."""


def with_policy_file(
    data: dict[str, Any],
    raw: dict[str, Any],
    week: int,
    path: str | Path,
    *,
    role: str,
    error: type[UserError] = UserError,
) -> dict[str, Any]:
    """Return the saved scenario's data with a policy file's name, description and policies.

    The saved policies that start before ``week`` are kept (the state's past), then the
    file's, which must start at ``week`` or later. One line (``error``) naming ``path``
    for another key or an earlier policy; ``role`` says what the file is in the message
    (``"with --from-state a scenario file"``, ``"beside start: the base"``).
    """
    extra = sorted(set(raw) - POLICY_FILE_KEYS)
    if extra:
        raise error(
            f"{path}: {extra[0]}: {role} is a policy file (name, description, policies "
            f"from week {week} on); the rest is the saved scenario's"
        )
    policies = list(raw.get("policies") or [])
    for number, policy in enumerate(policies):
        begin = policy.get("start", 0) if isinstance(policy, dict) else 0
        if not isinstance(begin, int) or begin < week:
            raise error(
                f"{path}: policies.{number}.start: {begin!r}: the state is at week {week}; "
                f"a policy from the state starts at week {week} or later"
            )
    past = [p for p in data.get("policies") or [] if int(p.get("start", 0)) < week]
    out = dict(data)
    out["name"] = str(raw.get("name") or Path(path).stem)
    if "description" in raw:
        out["description"] = raw["description"]
    out["policies"] = past + policies
    return out


def future_difference(saved: Scenario, other: Scenario, week: int) -> str | None:
    """Say how ``other`` differs from the saved scenario in more than its future, or None.

    A run started from a state saved at ``week`` may use a scenario that differs from
    the saved one only in ``simulation.steps`` (how far to run), ``simulation.seed``,
    its name and description, and policies (interventions) that start at or after
    ``week``; every policy starting before ``week`` must be the same, in the same
    order. Anything else (population, parameters, a policy that would have acted
    before the saved week) would make the saved present the present of another world.
    """
    a, b = saved.resolved(), other.resolved()
    for data in (a, b):
        data.pop("name", None)
        data.pop("description", None)
        for key in ("steps", "seed"):
            data.get("simulation", {}).pop(key, None)
    past_a = [p for p in a.pop("policies", []) or [] if int(p.get("start", 0)) < week]
    past_b = [p for p in b.pop("policies", []) or [] if int(p.get("start", 0)) < week]
    if past_a != past_b:
        return (
            f"its policies acting before week {week} differ from the saved run's (only "
            f"policies starting at or after week {week} may be added or changed)"
        )
    if a != b:
        key = _first_difference(a, b)
        return f"{key} differs from the saved scenario (only policies from week {week} may change)"
    return None


def _first_difference(a: Any, b: Any, prefix: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                where = f"{prefix}.{key}" if prefix else str(key)
                return _first_difference(a.get(key), b.get(key), where)
    return prefix or "the scenario"


# ----------------------------------------------------------------------------- resuming


def resume_model(
    saved: SavedState,
    scenario: Scenario | None = None,
    seed: int | None = None,
    track_groups: bool = True,
) -> MarketModel:
    """Build the model of a saved state, at its week, ready to step on.

    Args:
        saved: the state (:func:`read_state`).
        scenario: the scenario to go on with (None: the saved one); it may differ from
            the saved one only as :func:`future_difference` allows.
        seed: the seed of the weeks from the saved week on (None: the saved run's, so
            the continuation is the uninterrupted run). The world is built with the
            saved seed either way.
        track_groups: record the group table from the saved week on when the state has
            none (a state saved by ``mtsim run`` has it).

    Raises:
        StateError: a scenario that differs in more than its future, or a rebuilt world
            that is not the saved one.
    """
    from model.group_table import GroupRecorder
    from model.market import MarketModel

    source = str(saved.path)
    base = saved.scenario()
    if scenario is None:
        scenario = base
    else:
        problem = future_difference(base, scenario, saved.week)
        if problem is not None:
            raise StateError(
                f"{source}: {scenario.name}: {problem} (scenario hash "
                f"{scenario_hash(scenario)[:12]}, saved {saved.scenario_hash[:12]})"
            )
    model = MarketModel(scenario, seed=saved.seed)
    if graph_fingerprint(model) != saved.meta["graph_fingerprint"]:
        raise StateError(f"{source}: the rebuilt social graph is not the saved one")
    with np.load(saved.path, allow_pickle=False) as archive:
        tree = _Reader(archive, source).decode(saved.meta["state"])
    for name, state in tree["states"].items():
        target = model._states.get(name)
        if target is None or type(target) is not type(state):
            raise StateError(f"{source}: state group {name!r} does not fit this model")
        for f in dataclasses.fields(state):
            setattr(target, f.name, getattr(state, f.name))
    missing = set(model._states) - set(tree["states"])
    if missing:
        raise StateError(f"{source}: no state of {', '.join(sorted(missing))}")
    dc = model.datacollector
    dc.model_vars = tree["model_vars"]
    if hasattr(dc, "_collection_steps"):
        dc._collection_steps = list(tree["collection_steps"])
    model._consumer_records = list(tree["consumer_records"])
    groups = tree["groups"]
    if groups["tracked"] or track_groups:
        recorder = GroupRecorder(scenario, model.consumers)
        if groups["rows"] is not None:
            recorder.rows = [groups["rows"]]
        model._groups = recorder
    model.graph._tracked = dict(tree["graph_tracked"])
    model.rng.bit_generator.state = tree["rng"]
    model.random.setstate(_as_tuples(tree["random"]))
    model.agent_id_counter = int(tree["agent_id_counter"])
    _advance_clock(model, saved.week)
    model.current = model.parameters.at(max(saved.week - 1, 0))
    if seed is not None:
        model.seed = int(seed)
    return model


def _as_tuples(value: Any) -> Any:
    """``random.setstate`` wants tuples all the way down."""
    if isinstance(value, (list, tuple)):
        return tuple(_as_tuples(v) for v in value)
    return value


def _advance_clock(model: MarketModel, week: int) -> None:
    """Advance Mesa's step counter and clock to ``week`` without running a step."""
    user_step = model._user_step
    model._user_step = lambda: None
    try:
        for _ in range(week):
            model.step()
    finally:
        model._user_step = user_step
    if model.steps != week:  # pragma: no cover - Mesa changed how it counts steps
        raise StateError(f"could not set the model's clock to week {week}")
