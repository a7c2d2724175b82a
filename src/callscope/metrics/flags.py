"""Red flags on the scorecard: a manager whose figure is far worse than their team's average.

The figures and the team averages are the `agents` report's; this module only compares them
against fixed ratios, the way a reader scanning the table would. "Far" means both: at least
`RATIO` times the team average and at least `MIN_GAP` worse in absolute terms, so a team of
good performers does not flag someone for 2 % against 1 %.
"""

from __future__ import annotations

from typing import Any

RATIO = 1.5
# column -> smallest absolute gap that counts (shares as fractions, times in seconds, counts)
MIN_GAP: dict[str, float] = {
    "miss_rate": 0.10,
    "pickup_s_median": 5.0,
    "never_called_back": 2.0,
    "quick_hangups": 2.0,
}
FLAG_NAMES = {
    "miss_rate": "flag.miss_rate",
    "pickup_s_median": "flag.pickup",
    "never_called_back": "flag.never_called_back",
    "quick_hangups": "flag.quick_hangups",
}


def flagged(row: dict[str, Any], team_avg: dict[str, Any] | None) -> list[str]:
    """Columns of `row` far worse (higher) than the team average's."""
    if not team_avg or (team_avg.get("agents") or 0) < 2:
        return []  # a team of one has nobody to compare with
    out: list[str] = []
    for key, gap in MIN_GAP.items():
        mine, avg = row.get(key), team_avg.get(key)
        if mine is None or avg is None:
            continue
        if mine >= avg * RATIO and mine - avg >= gap:
            out.append(key)
    return out
