"""Win-factor attribution: a logistic regression of won vs lost on what each deal had when it reached
the reference stage (replay/deal_features.py), fitted by statsmodels, reported as odds ratios with 95 %
confidence intervals. Significance is Holm-adjusted over every factor, so a history where nothing
matters reports nothing as mattering. Too little data, or data the model cannot fit, is refused with
the reason, never reported."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError

from replay.attribution_rules import Rules
from replay.deal_features import Feature, FeatureTable

OTHER = "other"
Floats = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Column:
    feature: Feature
    level: str | None = None
    reference: str | None = None

    @property
    def name(self) -> str:
        return self.feature.name if self.level is None else f"{self.feature.name}={self.level}"

    @property
    def label(self) -> str:
        if self.level is None:
            return self.feature.label
        return f"{self.feature.label} {self.level} (against {self.reference})"


class TooThin(Exception):
    """The data cannot support the model; the message says which rule it breaks."""


def attribute(
    table: FeatureTable, rules: Rules | None = None, only: list[str] | None = None
) -> dict[str, Any]:
    """The attribution document: sample, model, and per factor its odds ratio, interval and significance."""
    rules = rules or Rules()
    features = [f for f in table.features if only is None or f.name in only]
    if only is not None:
        unknown = sorted(set(only) - {f.name for f in table.features})
        if unknown:
            known = ", ".join(f.name for f in table.features)
            raise ValueError(
                f"features: unknown feature {unknown[0]} at {table.stage.value} (known: {known})"
            )
    won = sum(1 for row in table.rows if row.won)
    lost = len(table.rows) - won
    document: dict[str, Any] = {
        "at_stage": table.stage.value,
        "sample": {
            "deals": len(table.rows),
            "won": won,
            "lost": lost,
            "closed_without_reaching_stage": table.not_reached,
        },
        "rules": {
            "alpha": rules.alpha,
            "correction": "holm",
            "min_deals": rules.min_deals,
            "min_per_outcome": rules.min_per_outcome,
            "events_per_parameter": rules.events_per_parameter,
        },
        "dropped": [],
    }
    try:
        _check_counts(won, lost, rules)
        columns, matrix, dropped = _design(table, features, rules)
        document["dropped"] = dropped
        _check_parameters(won, lost, len(columns), rules, document["sample"])
        outcome = np.array([1.0 if row.won else 0.0 for row in table.rows])
        fit = _fit(outcome, matrix)
    except TooThin as refusal:
        return {**document, "refused": True, "reason": str(refusal), "factors": [], "significant": []}
    return {**document, "refused": False, **_report(fit, columns, rules)}


def _design(
    table: FeatureTable, features: list[Feature], rules: Rules
) -> tuple[list[Column], Floats, list[dict[str, str]]]:
    """The model's columns (an intercept first, then features; categories as levels against the most
    common one) and the features left out, each with why."""
    columns: list[Column] = []
    data: list[list[float]] = []
    dropped: list[dict[str, str]] = []
    for feature in features:
        values = [row.values[feature.name] for row in table.rows]
        if feature.kind != "category":
            numbers = [float(value) for value in values]
            if len(set(numbers)) < 2:
                dropped.append({"factor": feature.name, "reason": "the same for every deal"})
                continue
            columns.append(Column(feature))
            data.append(numbers)
            continue
        counts = Counter(str(value) for value in values)
        pooled = [str(v) if counts[str(v)] >= rules.min_level else OTHER for v in values]
        levels = Counter(pooled)
        reference = min(levels, key=lambda level: (-levels[level], level))
        if OTHER in levels and levels[OTHER] < rules.min_level and reference != OTHER:
            # Too few even together to estimate: they count as the reference level.
            dropped.append(
                {
                    "factor": f"{feature.name}={OTHER}",
                    "reason": f"{levels[OTHER]} deals in levels under {rules.min_level} deals each: "
                    f"counted with {reference}",
                }
            )
            pooled = [reference if level == OTHER else level for level in pooled]
            levels = Counter(pooled)
        if len(levels) < 2:
            dropped.append({"factor": feature.name, "reason": "one level for every deal"})
            continue
        for level in sorted(levels):
            if level != reference:
                columns.append(Column(feature, level, reference))
                data.append([1.0 if value == level else 0.0 for value in pooled])
    if not data:
        raise TooThin("no factor varies between the deals")
    matrix = np.column_stack([np.ones(len(table.rows)), *(np.array(values) for values in data)])
    kept = [0]
    for index in range(1, matrix.shape[1]):
        if np.linalg.matrix_rank(matrix[:, [*kept, index]]) == len(kept) + 1:
            kept.append(index)
        else:
            dropped.append(
                {"factor": columns[index - 1].name, "reason": "determined by the other factors (collinear)"}
            )
    return [columns[i - 1] for i in kept[1:]], matrix[:, kept], dropped


def _check_counts(won: int, lost: int, rules: Rules) -> None:
    if won + lost < rules.min_deals:
        raise TooThin(
            f"data too thin: {won + lost} closed deals reached the stage; at least {rules.min_deals}"
        )
    if min(won, lost) < rules.min_per_outcome:
        rarer = "won" if won < lost else "lost"
        raise TooThin(
            f"data too thin: only {min(won, lost)} {rarer} deals; at least {rules.min_per_outcome} of each"
        )


def _check_parameters(won: int, lost: int, parameters: int, rules: Rules, sample: dict[str, Any]) -> None:
    events = min(won, lost)
    sample["parameters"] = parameters
    sample["events_per_parameter"] = round(events / parameters, 2) if parameters else None
    if events < rules.events_per_parameter * parameters:
        raise TooThin(
            f"data too thin: {events} of the rarer outcome for {parameters} parameters is "
            f"{events / parameters:.1f} per parameter; at least {rules.events_per_parameter:g} "
            f"(collect more closed deals, or model fewer --features)"
        )


def _fit(outcome: Floats, matrix: Floats) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.filterwarnings("error", message=".*[Pp]erfect separation.*")
        try:
            fit = sm.Logit(outcome, matrix).fit(method="newton", maxiter=100, disp=False)
        except (PerfectSeparationError, ConvergenceWarning, RuntimeWarning, np.linalg.LinAlgError) as error:
            raise TooThin(f"the model cannot be fitted: {_reason(error)}") from None
        except Warning as warning:
            raise TooThin(f"the model cannot be fitted: {_reason(warning)}") from None
    if not fit.mle_retvals.get("converged", False):
        raise TooThin("the model cannot be fitted: the estimate did not converge")
    return fit


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if "separation" in text.lower():
        return "some factor separates won from lost perfectly, so its effect has no finite estimate"
    return text


def _report(fit: Any, columns: list[Column], rules: Rules) -> dict[str, Any]:
    params = np.asarray(fit.params)[1:]
    intervals = np.asarray(fit.conf_int(alpha=0.05))[1:]
    pvalues = np.asarray(fit.pvalues)[1:]
    _, holm, _, _ = multipletests(pvalues, alpha=rules.alpha, method="holm")
    factors = []
    rows = zip(columns, params, intervals, pvalues, holm, strict=True)
    for column, estimate, (low, high), p, adjusted in rows:
        odds, lower, upper = math.exp(estimate), math.exp(low), math.exp(high)
        factors.append(
            {
                "factor": column.name,
                "label": column.label,
                "odds_ratio": _round(odds),
                "ci95": [_round(lower), _round(upper)],
                "p": _round(float(p), 6),
                "p_holm": _round(float(adjusted), 6),
                "significant": bool(adjusted < rules.alpha),
                "sentence": (
                    f"{column.label} multiplies the odds of winning by "
                    f"{_figure(odds)} [{_figure(lower)}, {_figure(upper)}]"
                ),
            }
        )
    factors.sort(key=lambda factor: (not factor["significant"], factor["p"], factor["factor"]))
    return {
        "model": {
            "method": "logistic regression (statsmodels Logit, Newton), Wald 95 % intervals",
            "parameters": len(columns),
            "log_likelihood": _round(float(fit.llf), 3),
            "pseudo_r2": _round(float(fit.prsquared), 4),
            "llr_p": _round(float(fit.llr_pvalue), 6),
        },
        "factors": factors,
        "significant": [factor["factor"] for factor in factors if factor["significant"]],
    }


def _round(value: float, places: int = 4) -> float:
    return round(value, places)


def _figure(value: float) -> str:
    """Three significant figures: 3.2, 1.03, 0.871."""
    return f"{value:.3g}"
