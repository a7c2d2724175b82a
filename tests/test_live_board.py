"""The live agent board, fed by the recorded asterisk-real AMI session and by generic events:
who rings, who talks with whom and since when, who is paused and why, queues and waits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from callscope.live.ami_text import read_events
from callscope.live.board import Board
from callscope.settings import Settings


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _board_until(settings: Settings, shared: Path, epoch: float) -> Board:
    board = Board(settings)
    for event in read_events(shared / "pbx-samples" / "asterisk-real" / "ami-events.txt"):
        if float(event.get("Timestamp", "0")) <= epoch:
            board.apply_ami(event)
    return board


def _card(board: Board, agent: str, epoch: float) -> dict[str, object]:
    cards = {c["agent"]: c for c in board.snapshot(_at(epoch))["agents"]}
    return cards[agent]


def test_queue_call_answered_by_galina(shared: Path, real_settings: Settings) -> None:
    # A01: IVR key 2 -> queue support; Galina Volkova (104) answers at 126.34 and talks 40 s
    board = _board_until(real_settings, shared, 1795370140.0)
    card = _card(board, "104", 1795370140.0)
    assert (card["state"], card["with"], card["queue"]) == ("on_call", "+79161234567", "support")
    assert abs(float(str(card["for_s"])) - 13.7) < 0.1
    after = _board_until(real_settings, shared, 1795370170.0)
    assert _card(after, "104", 1795370170.0)["state"] == "available"


def test_ring_group_rings_two_agents_and_queue_shows_the_wait(
    shared: Path, real_settings: Settings
) -> None:
    # A11 (line 2, ring group 700): 101 and 102 ring from 255.13 until the caller gives up
    board = _board_until(real_settings, shared, 1795370260.0)
    assert _card(board, "101", 1795370260.0)["state"] == "ringing"
    assert _card(board, "102", 1795370260.0)["with"] is not None
    # A05: caller waits in queue sales from 182.3 until 207.6
    waiting = _board_until(real_settings, shared, 1795370200.0).snapshot(_at(1795370200.0))
    sales = next(q for q in waiting["queues"] if q["queue"] == "sales")
    assert sales["waiting"] == 1 and 15 < sales["longest_wait_s"] < 20


def test_pause_with_reason_from_a_real_transcript(shared: Path) -> None:
    board = Board(Settings())
    for event in read_events(shared / "pbx-samples" / "asterisk-ami" / "goami2_call_fixture.ami"):
        board.apply_ami(event)
    cards = {c["agent"]: c for c in board.snapshot()["agents"]}
    assert (cards["9921"]["state"], cards["9921"]["reason"]) == ("paused", "break")
    assert "Queue:Books_12_avail" not in cards


def test_generic_events_drive_the_same_board() -> None:
    board = Board(Settings(agents={"101": {"name": "Anna"}}))  # type: ignore[dict-item]
    board.apply_generic(
        {
            "type": "agent.state",
            "agent": "101",
            "state": "paused",
            "reason": "lunch",
            "at": "2026-11-23T09:00:00Z",
        }
    )
    board.apply_generic(
        {
            "type": "call.ringing",
            "call_id": "c",
            "agent": "102",
            "from": "+79161234567",
            "at": "2026-11-23T09:01:00Z",
        }
    )
    board.apply_generic(
        {
            "type": "call.answered",
            "call_id": "c",
            "agent": "102",
            "from": "+79161234567",
            "at": "2026-11-23T09:01:05Z",
        }
    )
    now = datetime(2026, 11, 23, 9, 2, tzinfo=UTC)
    cards = {c["agent"]: c for c in board.snapshot(now)["agents"]}
    assert (cards["101"]["state"], cards["101"]["reason"], cards["101"]["for_s"]) == (
        "paused",
        "lunch",
        120.0,
    )
    assert (cards["102"]["state"], cards["102"]["with"], cards["102"]["for_s"]) == (
        "on_call",
        "+79161234567",
        55.0,
    )
    board.apply_generic({"type": "call.ended", "call_id": "c", "at": "2026-11-23T09:03:00Z"})
    assert {c["agent"]: c["state"] for c in board.snapshot(now)["agents"]}["102"] == "available"
