"""Chart descriptions for Chart.js, built from report rows: the server picks the figures, the
browser only draws them (static/app.js). A spec is plain JSON embedded in the page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

RED, BLUE, GREEN, AMBER, GREY = "#b42318", "#1d4ed8", "#17703b", "#d49b00", "#8391a7"


def series(
    kind: str,
    labels: Sequence[Any],
    datasets: Sequence[tuple[str, Sequence[Any], str | None]],
    *,
    unit: str = "number",
    stacked: bool = False,
    horizontal: bool = False,
) -> dict[str, Any]:
    """`datasets` are (label, values, colour or None for the palette)."""
    return {
        "type": kind,
        "labels": [str(x) for x in labels],
        "datasets": [
            {"label": label, "data": list(values), **({"color": colour} if colour else {})}
            for label, values, colour in datasets
        ],
        "unit": unit,
        "stacked": stacked,
        "horizontal": horizontal,
    }


def doughnut(
    labels: Sequence[str], values: Sequence[Any], colours: Sequence[str]
) -> dict[str, Any]:
    return {
        "type": "doughnut",
        "labels": list(labels),
        "datasets": [{"label": "", "data": list(values), "colors": list(colours)}],
        "unit": "number",
    }
