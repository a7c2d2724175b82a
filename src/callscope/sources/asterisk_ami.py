"""Asterisk AMI events as raw records: the live twin of CEL.

An AMI session carries the same channel life cycle CEL writes to its file: Newchannel is
CHAN_START, Newstate "Up" is ANSWER, BridgeEnter/BridgeLeave are BRIDGE_ENTER/EXIT, Hangup (with
its Q.850 cause) is HANGUP, DTMFEnd is DTMF, QueueCallerJoin/Leave bracket the Queue application,
AgentCalled names the member channel app_queue dialled, DialEnd carries the DIALSTATUS the CEL
HANGUP extra repeats. So instead of a second interpretation of calls (the "keep in sync" trap),
the facts SQL below rewrites the events into CEL-shaped rows and runs the CEL facts over them:
one algorithm, whether the PBX's channels arrive as a file or as a stream.

Raw rows keep every event whole (`fields`, a JSON object of its headers) so nothing the PBX said
is lost; the columns beside it are the few the SQL joins on. `record_key` is the hash of the
event's full text: with `timestampevents = yes` in manager.conf (microsecond Timestamp header)
a re-sent event is recognised, and a reconnect that replays nothing new changes nothing.
"""

from __future__ import annotations

from typing import ClassVar

import duckdb

from callscope.errors import InputFormatError
from callscope.settings import Settings
from callscope.sources.asterisk_cel import cel_facts_sql
from callscope.sources.base import StageContext, StageResult

SOURCE = "asterisk-ami"
PRIORITY = 3  # as exact as CEL, which it mirrors

RAW_COLUMNS = (
    "event VARCHAR, ts TIMESTAMP, uniqueid VARCHAR, linkedid VARCHAR, channel VARCHAR, "
    "dest_uniqueid VARCHAR, dest_channel VARCHAR, fields JSON"
)

# The staging step from JSON events (one object of AMI headers per row, column `payload`) to the
# raw columns. `received_at` stands in when the PBX does not stamp its events.
STAGE_SELECT = """
    (payload ->> 'Event') AS event,
    coalesce(make_timestamp(
        (try_cast(payload ->> 'Timestamp' AS DOUBLE) * 1000000)::BIGINT)::TIMESTAMP,
        received_at) AS ts,
    nullif(payload ->> 'Uniqueid', '') AS uniqueid,
    nullif(payload ->> 'Linkedid', '') AS linkedid,
    nullif(payload ->> 'Channel', '') AS channel,
    nullif(payload ->> 'DestUniqueid', '') AS dest_uniqueid,
    nullif(payload ->> 'DestChannel', '') AS dest_channel,
    payload::JSON AS fields
"""


def _num(expr: str) -> str:
    """AMI writes `<unknown>` where a caller id is not known yet; CEL writes nothing."""
    return f"nullif(nullif({expr}, '<unknown>'), '')"


CEL_SHAPED = f"""
(WITH a AS (
    SELECT *, (fields ->> 'Context') AS ctx, (fields ->> 'Exten') AS ext,
           {_num("(fields ->> 'CallerIDNum')")} AS cid
    FROM {{raw}}
),
hangup_asked AS (  -- a channel whose own dialplan hung it up (CEL: dialplan/builtin) gets
                  -- a SoftHangupRequest not caused by a peer: no HangupRequest queued on it
                  -- first, and not right after it left a bridge
    SELECT tenant, uniqueid
    FROM (SELECT tenant, uniqueid, event,
                 lag(event) OVER (PARTITION BY tenant, uniqueid ORDER BY ts, row_no) AS before,
                 count(*) FILTER (WHERE event = 'HangupRequest') OVER (
                     PARTITION BY tenant, uniqueid ORDER BY ts, row_no) AS requests
          FROM a WHERE uniqueid IS NOT NULL)
    WHERE event = 'SoftHangupRequest' AND requests = 0
      AND coalesce(before, '') NOT IN ('HangupRequest', 'BridgeLeave')
    GROUP BY ALL
),
in_queue AS (  -- the caller channel runs app Queue from QueueCallerJoin to QueueCallerLeave
    SELECT tenant, uniqueid, event, ts, (fields ->> 'Queue') AS queue
    FROM a WHERE event IN ('QueueCallerJoin', 'QueueCallerLeave', 'QueueCallerAbandon')
),
dialstatus AS (  -- DIALSTATUS a channel had when it hung up: its last DialEnd as the dialler;
                 -- app_queue leaves it alone when it cancels members because the caller left
    SELECT d.tenant, d.uniqueid, arg_max(d.fields ->> 'DialStatus', (d.ts, d.row_no)) AS status
    FROM a d
    ASOF LEFT JOIN in_queue q ON q.tenant = d.tenant AND q.uniqueid = d.uniqueid AND d.ts >= q.ts
    WHERE d.event = 'DialEnd' AND d.uniqueid IS NOT NULL
      AND NOT (coalesce(q.event, '') = 'QueueCallerJoin'
               AND (d.fields ->> 'DialStatus') = 'CANCEL')
    GROUP BY ALL
),
own AS (  -- events about the channel in Channel/Uniqueid
    SELECT a.*,
           CASE event
               WHEN 'Newchannel' THEN 'CHAN_START'
               WHEN 'Hangup' THEN 'HANGUP'
               WHEN 'BridgeEnter' THEN 'BRIDGE_ENTER'
               WHEN 'BridgeLeave' THEN 'BRIDGE_EXIT'
               WHEN 'DTMFEnd' THEN 'DTMF'
               WHEN 'QueueCallerJoin' THEN 'APP_START'
               WHEN 'BlindTransfer' THEN 'BLINDTRANSFER'
               ELSE CASE WHEN event = 'Newstate' AND (fields ->> 'ChannelState') = '6'
                         THEN 'ANSWER' ELSE event END
           END AS eventtype
    FROM a
    WHERE uniqueid IS NOT NULL
      AND NOT (event = 'DTMFEnd' AND (fields ->> 'Direction') <> 'Received')
      AND NOT (event = 'Newstate' AND (fields ->> 'ChannelState') <> '6')
),
rows AS (
    SELECT o.tenant, o.import_id, o.record_key, o.row_no, o.ts, o.eventtype, o.cid,
           o.ext, o.ctx, o.channel, o.uniqueid, o.linkedid,
           CASE WHEN o.event IN ('DialBegin', 'DialEnd') THEN 'Dial'
                WHEN q.event = 'QueueCallerJoin' OR o.event IN (
                    'QueueCallerLeave', 'QueueCallerAbandon') THEN 'Queue' END AS appname,
           CASE WHEN q.event = 'QueueCallerJoin' OR o.event IN (
                    'QueueCallerLeave', 'QueueCallerAbandon') THEN q.queue END AS appdata,
           CASE o.eventtype
               WHEN 'HANGUP' THEN json_object(
                   'hangupcause', try_cast((o.fields ->> 'Cause') AS INTEGER),
                   'hangupsource', CASE WHEN s.uniqueid IS NOT NULL
                                        THEN 'dialplan/builtin' ELSE '' END,
                   'dialstatus', coalesce(d.status, ''))::VARCHAR
               WHEN 'DTMF' THEN json_object('digit', (o.fields ->> 'Digit'))::VARCHAR
           END AS extra
    FROM own o
    ASOF LEFT JOIN in_queue q
      ON q.tenant = o.tenant AND q.uniqueid = o.uniqueid AND o.ts >= q.ts
    LEFT JOIN hangup_asked s
      ON s.tenant = o.tenant AND s.uniqueid = o.uniqueid AND o.eventtype = 'HANGUP'
    LEFT JOIN dialstatus d
      ON d.tenant = o.tenant AND d.uniqueid = o.uniqueid AND o.eventtype = 'HANGUP'
    UNION ALL  -- a member channel app_queue dialled runs AppQueue, as CEL names it
    SELECT tenant, import_id, record_key, row_no, ts, 'AGENT_CALLED', cid, NULL, NULL,
           dest_channel, dest_uniqueid, (fields ->> 'DestLinkedid'), 'AppQueue', NULL, NULL
    FROM a WHERE event = 'AgentCalled' AND dest_uniqueid IS NOT NULL
)
SELECT row_no AS event_id, eventtype, ts AS eventtime, NULL::VARCHAR AS cid_name,
       cid AS cid_num, NULL::VARCHAR AS cid_ani, NULL::VARCHAR AS cid_rdnis,
       NULL::VARCHAR AS cid_dnid, ext AS exten, ctx AS context, channel AS channame,
       CASE WHEN eventtype IN ('HangupRequest', 'SoftHangupRequest')  -- still in its app
            THEN lag(appname) OVER (PARTITION BY tenant, uniqueid ORDER BY ts, row_no)
            ELSE appname END AS appname,
       appdata, NULL::VARCHAR AS amaflags, NULL::VARCHAR AS accountcode,
       uniqueid, linkedid, NULL::VARCHAR AS peer, NULL::VARCHAR AS userfield,
       NULL::VARCHAR AS userdeftype, extra,
       tenant, import_id, record_key, row_no
FROM rows)
"""

# Queue member pauses and logins: the agent board's history (agent_states) from the same stream.
# The member is named by a header; the assembler hands the raw rows with its agent id in `agent`
# (`agent_sql` below), which a bare raw table lacks: then the name as written stands.
AGENT_NAME = "coalesce(nullif(fields ->> 'MemberName', ''), fields ->> 'Interface')"
AGENT_EVENTS = f"""
WITH m AS (
    SELECT tenant, ts, event, coalesce(agent, {AGENT_NAME}) AS agent,
           (fields ->> 'Paused') AS paused,
           nullif(coalesce(fields ->> 'PausedReason', (fields ->> 'Reason')), '') AS reason
    FROM (SELECT NULL::VARCHAR AS agent WHERE false UNION ALL BY NAME SELECT * FROM {{raw}})
    WHERE event IN ('QueueMemberPause', 'QueueMemberAdded', 'QueueMemberRemoved')
),
s AS (
    SELECT tenant, agent, ts AS started_at,
           CASE WHEN event = 'QueueMemberRemoved' THEN 'offline'
                WHEN paused = '1' THEN 'paused' ELSE 'available' END AS state,
           CASE WHEN paused = '1' THEN lower(reason) END AS reason,
           lead(ts) OVER (PARTITION BY tenant, agent ORDER BY ts) AS ended_at
    FROM m WHERE agent IS NOT NULL
)
SELECT tenant, agent, state, reason, started_at, ended_at, 'asterisk-ami' AS source
FROM s WHERE state <> 'available'
"""


class AsteriskAmi:
    """Raw AMI events. Not a file format: the live intake stages them (callscope.live)."""

    name: ClassVar[str] = SOURCE
    raw_table: ClassVar[str] = "raw_asterisk_ami_v1"
    raw_columns: ClassVar[str] = RAW_COLUMNS
    priority: ClassVar[int] = PRIORITY
    covers: ClassVar[frozenset[str]] = frozenset({"queue", "dial"})
    key_sql: ClassVar[str] = "linkedid"
    agent_sql: ClassVar[str] = AGENT_NAME  # who a queue member event is about

    def sniff(self, head: str) -> float:
        return 0.0  # never chosen for a file by --format auto

    def stage(self, con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
        raise InputFormatError(
            f"{ctx.display_name}: AMI events arrive live; use `callscope listen ami` "
            "(or `callscope listen replay` for a recorded transcript)"
        )

    def facts_sql(self, settings: Settings | None = None) -> dict[str, str]:
        cel = cel_facts_sql(settings or Settings())
        facts = {
            view: f"SELECT * REPLACE ('{SOURCE}' AS source) FROM ("
            + cel[view].replace("{raw}", CEL_SHAPED)
            + ")"
            for view in ("call_facts", "leg_facts")
        }
        facts["key_links"] = cel["key_links"].replace("{raw}", CEL_SHAPED)
        facts["agent_events"] = AGENT_EVENTS
        return facts
