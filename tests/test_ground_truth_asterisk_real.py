"""The asterisk-real sample: logs a real Asterisk 22 wrote for 29 scripted calls, and the
script's truth. Imported the way a user would point callscope at the same PBX's logs, the
assembled calls must match the truth call by call: answered or missed by the 6-second rule,
who answered, every agent leg with its result, talk within 1 s."""

from __future__ import annotations

from pathlib import Path

import pytest

from callscope.importer import import_files
from callscope.settings import Settings
from callscope.store import Store
from ground_truth import differences, load_truth

# What Master.csv alone cannot know: calls answered first by the IVR count IVR and queue time in
# every later row's billsec, so talk is too long, and two short calls look answered.
CDR_ONLY_LIMITS = {
    "A01: talk {'104': 46.0} != {'104': 40}",
    "A02: talk {'102': 41.0} != {'102': 35}",
    "A06: inbound missed=False, truth True",
    "A06: talk {'105': 7.0} != {'105': 3}",
    "A12: inbound missed=False, truth True",
    "A12: talk {'105': 9.0} != {'105': 4}",
    "A15: talk {'101': 30.0} != {'101': 25}",
    "A16: talk {'105': 25.0} != {'105': 20}",
    "A17: talk {'101': 17.0, '103': 22.0} != {'101': 12, '103': 20}",
    "A21: talk {'105': 25.0} != {'105': 20}",
    "A26: talk {'103': 34.0} != {'103': 30}",
    "A29: talk {'104': 62.0} != {'104': 50}",
}
# queue_log corrects the queue legs; the transfer target's Dial row still counts its ringing.
CDR_QUEUE_LOG_LIMITS = {"A17: talk {'101': 12.0, '103': 22.0} != {'101': 12, '103': 20}"}


@pytest.mark.parametrize(
    ("files", "known"),
    [
        (["Master.csv", "queue_log", "cel.csv"], set()),
        (["cel.csv"], set()),
        (["cel.csv", "queue_log", "Master.csv"], set()),
        (["Master.csv", "queue_log"], CDR_QUEUE_LOG_LIMITS),
        (["queue_log", "Master.csv"], CDR_QUEUE_LOG_LIMITS),
        (["Master.csv"], CDR_ONLY_LIMITS),
    ],
    ids=lambda v: "+".join(v) if isinstance(v, list) else "",
)
def test_assembled_calls_match_ground_truth(
    store: Store, shared: Path, real_settings: Settings, files: list[str], known: set[str]
) -> None:
    folder = shared / "pbx-samples" / "asterisk-real"
    summary = import_files(store, [folder / f for f in files], settings=real_settings)
    assert [f.error for f in summary.failed] == []
    assert summary.rejects == 0
    assert set(differences(store, load_truth(folder))) == known


def test_each_file_imported_separately_gives_the_same_calls(
    store: Store, shared: Path, real_settings: Settings
) -> None:
    folder = shared / "pbx-samples" / "asterisk-real"
    for name in ("queue_log", "Master.csv", "cel.csv"):
        import_files(store, [folder / name], settings=real_settings)
    assert differences(store, load_truth(folder)) == []
