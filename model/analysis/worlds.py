"""Effects across plausible worlds: sign stability, what they depend on, best policy and regret.

The tables of ``mtsim compare BASE POLICY... --worlds N`` (the runs are
:mod:`model.workflows.worlds`). For every world w (one draw of the behavioural
parameters from their plausible ranges, model/ranges.yaml), policy p and outcome m,
the paired effect is the difference of the means over replications (common random
numbers: replication r uses the same seed for every scenario)::

    effect(p, m, w) = mean_r x(p, m, w, r) - mean_r x(base, m, w, r)

Per policy and outcome: the median effect over worlds and its 10-90% spread, the sign
of the median and the share of worlds in which the effect has that sign ("keeps its
sign"). What the effect depends on: PAWN, a moment-independent global sensitivity index
(Pianosi and Wagener 2015; SALib's ``pawn``: the Kolmogorov-Smirnov distance between the
effect's distribution and its distribution with one parameter in a slice of its range,
median over slices), computed from the same worlds (any sample design works, so the
Latin hypercube is used as drawn), and Spearman's rank correlation (a monotone
dependence, with its direction; at a few dozen worlds it has more power than PAWN's
slices). With fewer worlds than parameters every index is noisy, so the worlds get
``DUMMIES`` extra columns of pure noise and a parameter is named only when its PAWN
index or its absolute rank correlation exceeds the largest of the dummies' (the
dummy-parameter screen, Khorashadi Zadeh et al. 2017). Where the effect loses its sign
in some worlds (no change, or the other sign), PRIM (EMA workbench; Friedman and Fisher
1999) looks for a box of parameter values that holds those worlds; a restriction is
reported only when it cuts at least ``CUT`` of the parameter's range.
With several policies: how often each is the best and its regret
(:mod:`model.decision.robustness`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

DUMMIES = 8
"""Noise columns added to the worlds before the sensitivity index: its noise floor."""

TOP = 3
"""Parameters named per policy and outcome."""

MIN_BOX_WORLDS = 16
"""Fewest worlds for a PRIM box (fewer: none is reported)."""

CUT = 0.25
"""Smallest share of a parameter's range a PRIM restriction must cut to be reported."""

HEADLINE = ("orders", "payment_adoption", "shopper_share", "gmv")
"""Outcomes of the report's first paragraph (the others are in its table)."""


def paired_effects(values: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Policy minus reference, per world and metric.

    Args:
        values: columns package, world, metric, value (mean over replications).
        names: the scenarios, the reference first.

    Returns:
        Columns policy, world, metric, effect.
    """
    base = values[values["package"] == names[0]].set_index(["world", "metric"])["value"]
    rows = []
    for name in names[1:]:
        mine = values[values["package"] == name].set_index(["world", "metric"])["value"]
        diff = (mine - base).dropna()
        frame = diff.rename("effect").reset_index()
        frame.insert(0, "policy", name)
        rows.append(frame)
    if not rows:
        return pd.DataFrame(columns=["policy", "world", "metric", "effect"])
    return pd.concat(rows, ignore_index=True)


def sensitivity(
    worlds: pd.DataFrame, effects: pd.Series, parameters: Sequence[str], seed: int = 0
) -> pd.DataFrame:
    """Return each parameter's PAWN index (median over slices) and Spearman's rho with the effect.

    A parameter is above the noise when its PAWN index exceeds every dummy's, or its
    absolute rank correlation does; ``score`` is the larger of the two ratios to the
    dummies' maxima (the order of the table).

    Args:
        worlds: one row per world (index: world), a column per parameter.
        effects: the effect per world (index: world).
        parameters: the parameter columns.
        seed: for the dummy columns and PAWN's resampling.

    Returns:
        Columns parameter, pawn, rho, score, above_noise, noise_floor (the dummies' largest
        PAWN index), rho_noise_floor (their largest absolute rho), sorted by score.
    """
    from SALib.analyze import pawn
    from scipy.stats import spearmanr

    common = [w for w in worlds.index if w in effects.index]
    y = effects.loc[common].to_numpy(dtype=float)
    x = worlds.loc[common, list(parameters)].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    dummies = rng.random((len(common), DUMMIES))
    full = np.hstack([x, dummies])
    names = [*parameters, *(f"dummy {i}" for i in range(DUMMIES))]
    lows, highs = full.min(axis=0), full.max(axis=0)
    highs = np.where(highs > lows, highs, lows + 1.0)
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[float(a), float(b)] for a, b in zip(lows, highs, strict=True)],
    }
    if len(common) < 8 or np.ptp(y) == 0:
        index = np.zeros(len(names))
    else:
        slices = max(2, min(10, len(common) // 8))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            index = np.asarray(
                pawn.analyze(problem, full, y, S=slices, seed=seed, print_to_console=False)[
                    "median"
                ],
                dtype=float,
            )
    noise = float(np.nanmax(index[len(parameters) :])) if len(index) else 0.0
    rhos = []
    for column in range(full.shape[1]):
        if np.ptp(full[:, column]) == 0 or np.ptp(y) == 0:
            rhos.append(math.nan)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rhos.append(float(spearmanr(full[:, column], y)[0]))
    rho = np.asarray(rhos[: len(parameters)], dtype=float)
    dummy_rho = np.abs(np.asarray(rhos[len(parameters) :], dtype=float))
    rho_noise = float(np.nanmax(dummy_rho)) if np.isfinite(dummy_rho).any() else math.inf
    pawn_index = index[: len(parameters)]
    with np.errstate(all="ignore"):
        score = np.fmax(
            pawn_index / noise if noise > 0 else pawn_index * 0,
            np.abs(rho) / rho_noise if np.isfinite(rho_noise) and rho_noise > 0 else 0 * rho,
        )
    out = pd.DataFrame(
        {
            "parameter": list(parameters),
            "pawn": pawn_index,
            "rho": rho,
            "score": np.nan_to_num(score),
            "above_noise": (pawn_index > noise) | (np.abs(np.nan_to_num(rho)) > rho_noise),
        }
    )
    out["noise_floor"] = noise
    out["rho_noise_floor"] = rho_noise
    return out.sort_values(["score", "parameter"], ascending=[False, True], kind="stable")


def flip_box(
    worlds: pd.DataFrame,
    flipped: pd.Series,
    parameters: Sequence[str],
    find_boxes: Callable[..., Any] | None = None,
) -> list[tuple[str, float, float]]:
    """Find a PRIM box holding the worlds where the effect loses its sign (EMA workbench).

    ``find_boxes`` is ``model.decision.discover.find_boxes`` (as ``mtsim discover``; the
    caller passes it, since analysis does not import the decision layer): one box, its
    restrictions kept only where PRIM's quasi-p test supports them. None: no box.

    Returns:
        (parameter, low, high) restrictions, [] when there is none.
    """
    if find_boxes is None:
        return []
    if len(flipped) < MIN_BOX_WORLDS or flipped.sum() < 2 or (~flipped).sum() < 2:
        return []

    x = worlds.loc[flipped.index, list(parameters)].reset_index(drop=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = find_boxes(x, flipped.to_numpy(dtype=bool), boxes=1, mass_min=0.1)
    except Exception:  # noqa: BLE001 - a box is an aid to reading, never a failure
        return []
    if not found or found[0].density < 0.5:
        return []
    # a restriction that trims only the extreme worlds says nothing: keep those that cut
    # at least CUT of the parameter's drawn range
    out = []
    for name, (low, high) in found[0].limits.items():
        span = float(x[name].max() - x[name].min())
        if span > 0 and (high - low) <= (1.0 - CUT) * span:
            out.append((name, low, high))
    return out[:4]


def robust_summary(
    effects: pd.DataFrame,
    worlds: pd.DataFrame,
    parameters: Sequence[str],
    seed: int = 0,
    find_boxes: Callable[..., Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per policy and outcome: sign stability, spread and what the effect depends on.

    Args:
        effects: ``paired_effects``.
        worlds: one row per world (index world), a column per varied parameter.
        parameters: the varied parameters (columns of ``worlds``).
        seed: for the sensitivity index's dummies and resampling.
        find_boxes: the PRIM box finder (:func:`flip_box`; None: no boxes).

    Returns:
        (summary, sensitivity table). The summary's columns: policy, metric, worlds,
        median, p10, p90, sign (+1, -1, 0), keeps_sign (share of worlds with that sign),
        no_change and other_sign (shares of worlds with no effect, with the other sign),
        depends_on (top parameters above the noise floor, ``;``-separated, each with the
        sign of its rank correlation), flip_box (PRIM restrictions of the flipped worlds).
    """
    rows, sens_rows = [], []
    for (policy, metric), block in effects.groupby(["policy", "metric"], sort=False):
        series = block.set_index("world")["effect"].astype(float)
        values = series.to_numpy()
        median = float(np.median(values))
        scale = max(1e-12, float(np.max(np.abs(values))) * 1e-9)
        sign = 0 if abs(median) <= scale else int(np.sign(median))
        signs = np.where(np.abs(values) <= scale, 0, np.sign(values))
        keeps = float(np.mean(signs == sign))
        sens = sensitivity(worlds, series, parameters, seed=seed)
        sens.insert(0, "metric", metric)
        sens.insert(0, "policy", policy)
        sens_rows.append(sens)
        top = sens[sens["above_noise"]].head(TOP)
        depends = "; ".join(
            f"{r.parameter} ({'+' if r.rho >= 0 else '-'})" for r in top.itertuples()
        )
        box = ""
        if sign != 0 and keeps < 1.0:
            flipped = pd.Series(signs != sign, index=series.index)
            box = "; ".join(
                f"{name} {low:.3g} to {high:.3g}"
                for name, low, high in flip_box(worlds, flipped, parameters, find_boxes)
            )
        rows.append(
            {
                "policy": policy,
                "metric": metric,
                "worlds": int(values.size),
                "median": median,
                "p10": float(np.quantile(values, 0.1)),
                "p90": float(np.quantile(values, 0.9)),
                "sign": sign,
                "keeps_sign": keeps,
                "no_change": float(np.mean(signs == 0)),
                "other_sign": float(np.mean((signs != 0) & (signs != sign))),
                "depends_on": depends,
                "flip_box": box,
            }
        )
    sens_all = pd.concat(sens_rows, ignore_index=True) if sens_rows else pd.DataFrame()
    return pd.DataFrame(rows), sens_all


def _effect_words(row: Any) -> str:
    from model.metrics import format_number, metric_info

    disp = metric_info(row["metric"])
    unit = f" {disp.difference_unit}" if disp.difference_unit else ""
    n = int(row["worlds"])
    same = int(round(row["keeps_sign"] * n))
    verb = {1: "rises", -1: "falls", 0: "does not change"}[int(row["sign"])]
    others = []
    if int(row["sign"]) != 0 and row.get("no_change", 0) > 0:
        others.append(f"no change in {int(round(row['no_change'] * n))}")
    if row.get("other_sign", 0) > 0:
        other = {1: "falls", -1: "rises", 0: "changes"}[int(row["sign"])]
        others.append(f"{other} in {int(round(row['other_sign'] * n))}")
    text = (
        f"{disp.label.lower()} {verb} in {same} of {n} worlds ("
        + "".join(f"{o}; " for o in others)
        + "median "
        f"{format_number(row['median'] * disp.scale, significant=2)}{unit}; 10-90% of worlds "
        f"{format_number(row['p10'] * disp.scale, significant=2)} to "
        f"{format_number(row['p90'] * disp.scale, significant=2)})"
    )
    if row["depends_on"]:
        text += f", depending most on {row['depends_on'].replace('; ', ', ')}"
    else:
        text += ", no parameter stands out above the noise of the worlds"
    if row.get("flip_box"):
        text += f"; the other sign in worlds with {row['flip_box'].replace('; ', ', ')}"
    return text


def first_paragraph(
    summary: pd.DataFrame,
    regret: pd.DataFrame | None,
    names: Sequence[str],
    n_worlds: int,
    reps: int,
    steps: int,
    method: str,
) -> str:
    """Write the report's first paragraph: per policy the headline outcomes across worlds.

    Parameters are named with the sign of their rank correlation with the effect (+: the
    effect grows with the parameter).
    """
    head = (
        f"Across {n_worlds} plausible worlds ({method} within the behavioural parameters' "
        f"ranges, model/ranges.yaml; {reps} paired replication(s) per world, {steps} weeks), "
        f"compared with {names[0]}: "
    )
    parts = []
    for policy in names[1:]:
        block = summary[summary["policy"] == policy]
        shown = [m for m in HEADLINE if m in set(block["metric"])]
        texts = [_effect_words(block[block["metric"] == m].iloc[0]) for m in shown]
        parts.append(f"{policy}: " + "; ".join(texts) + ".")
    text = head + " ".join(parts)
    if regret is not None and not regret.empty and len(names) > 2:
        best = []
        for metric in [m for m in HEADLINE if m in set(regret["metric"])]:
            block = regret[(regret["metric"] == metric) & (regret["package"] != names[0])]
            if block.empty:
                continue
            top = block.sort_values(["share_best", "mean_regret"], ascending=[False, True]).iloc[0]
            best.append(
                f"{metric}: {top['package']} is best in {top['share_best']:.0%} of worlds "
                f"(mean regret {top['mean_regret']:.3g})"
            )
        if best:
            text += " Which policy is best: " + "; ".join(best) + "."
    return text
