"""Asterisk CEL (channel event logging): every channel of a call, event by event.

CEL is the most exact record Asterisk writes: each dialled phone is its own channel with
CHAN_START (it starts ringing), ANSWER, BRIDGE_ENTER/EXIT (talking) and HANGUP (with the cause,
who asked for it and the caller's DIALSTATUS), all sharing the call's `linkedid`. So CEL outranks
CDR and queue_log for every leg of a call it describes. The facts below rebuild, per linkedid,
which channel is the caller, which channels rang someone, and what became of each, in small
named SQL steps run in the engine.

Local channels come in halves: `;1` is what the dialler dialled (the leg), `;2` runs the
destination's dialplan. A `;2` half that itself dials further (it has a DIALSTATUS, or runs
Dial/Queue) makes its `;1` a mere connector (FreePBX ring groups, follow-me): the phones it
dialled are the legs. A call that starts with an Originate of a Local channel (click-to-call, a
test driver) starts with the `;1` half; the PBX's view of that caller is the `;2` half.

hangup_side says which party asked for the first hang-up: 'agent' = the company's side (an agent
leg, or the internal phone that placed the call), 'caller' = the outside party (the customer who
called in, or the external number an agent dialled); NULL when the PBX's own dialplan did.
"""

from __future__ import annotations

from typing import ClassVar

import duckdb

from callscope.settings import Settings
from callscope.sources import asterisk_sql as sql
from callscope.sources.asterisk_cel_layout import RAW_COLUMNS, read_cel, sniff_text
from callscope.sources.base import StageContext, StageResult

SOURCE = "asterisk-cel"
PRIORITY = 3
# Q.850 causes on an unanswered leg that mean the phone could not be reached at all.
UNAVAILABLE_CAUSES = "1, 3, 20, 27, 34, 38, 41, 42, 44, 66"
# How close (seconds) two events must be to count as one moment (answer elsewhere, hang-up).
SAME_MOMENT = "INTERVAL 1 SECOND"


class AsteriskCel:
    name: ClassVar[str] = SOURCE
    raw_table: ClassVar[str] = "raw_asterisk_cel_v1"
    raw_columns: ClassVar[str] = RAW_COLUMNS
    priority: ClassVar[int] = PRIORITY
    covers: ClassVar[frozenset[str]] = frozenset({"queue", "dial"})
    key_sql: ClassVar[str] = "linkedid"

    def sniff(self, head: str) -> float:
        return sniff_text(head)

    def stage(self, con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
        layout = read_cel(con, ctx, "stage_cel")
        row = con.execute("SELECT count(*) FROM stage_cel").fetchone()
        return StageResult("stage_cel", int(row[0]) if row else 0, [f"layout: {layout.name}"])

    def facts_sql(self, settings: Settings | None = None) -> dict[str, str]:
        return cel_facts_sql(settings or Settings())


def _channels_sql(settings: Settings) -> str:
    """CTE steps shared by every facts view: events in order, one row per channel, its role."""
    a = settings.asterisk
    vm_apps = sql.quote_list([app.lower() for app in a.voicemail_apps])
    in_voicemail = (
        f"(lower(coalesce(appname, '')) IN ({vm_apps}) "
        f"OR coalesce({sql.like_any('context', a.voicemail_contexts)}, false))"
    )
    return f"""
    ev AS (  -- events of a call in the order Asterisk wrote them
        SELECT tenant, linkedid AS call_key, uniqueid, channame, eventtype, eventtime AS ts,
               nullif(exten, '') AS exten, nullif(context, '') AS context,
               nullif(appname, '') AS appname, nullif(appdata, '') AS appdata,
               nullif(cid_num, '') AS cid_num, nullif(cid_dnid, '') AS cid_dnid,
               CASE WHEN json_valid(extra) THEN extra END AS extra,
               {in_voicemail} AS in_voicemail,
               row_number() OVER (PARTITION BY tenant, linkedid
                                  ORDER BY eventtime, event_id, import_id, row_no) AS seq
        FROM {{raw}}
    ),
    chan AS (  -- one row per channel: when it rang, answered, hung up, and why
        SELECT tenant, call_key, uniqueid,
               arg_min(channame, seq) AS channame,
               min(seq) AS first_seq,
               coalesce(min(ts) FILTER (WHERE eventtype = 'CHAN_START'), min(ts)) AS started_at,
               min(ts) FILTER (WHERE eventtype = 'ANSWER') AS answered_at,
               coalesce(min(ts) FILTER (WHERE eventtype = 'HANGUP'), max(ts)) AS ended_at,
               coalesce(min(seq) FILTER (WHERE eventtype = 'HANGUP'), max(seq)) AS end_seq,
               bool_or(eventtype = 'HANGUP') AS hung_up,
               arg_min(extra, seq) FILTER (WHERE eventtype = 'HANGUP') AS hangup_extra,
               bool_or(appname = 'AppQueue') AS rung_by_queue,
               bool_or(appname IN ('Dial', 'Queue')) AS ran_dial,
               min(ts) FILTER (WHERE in_voicemail) AS voicemail_at,
               arg_min(split_part(appdata, '@', 1), seq)
                   FILTER (WHERE lower(appname) = 'voicemail') AS mailbox
        FROM ev GROUP BY tenant, call_key, uniqueid
    ),
    named AS (  -- what the channel name and the HANGUP extra say
        SELECT *,
               nullif(regexp_extract(channame, ';([12])$', 1), '') AS half,
               -- the two halves of a Local pair share the name up to ;1 / ;2
               nullif(regexp_extract(channame, '^(Local/.+);1$', 1), '') AS pair1,
               nullif(regexp_extract(channame, '^(Local/.+);2$', 1), '') AS pair2,
               channame ILIKE 'Local/%' AS is_local,
               -- the number or peer dialled: Local/<exten>@ctx-..;1, PJSIP/<peer>-0000002a;
               -- FreePBX prefixes its Local extens (LC-201, FMGL-201#, FMPR-201)
               coalesce(nullif(regexp_extract(channame,
                                              '^Local/(?:[A-Za-z]+-)?([^@#]+)#?@', 1), ''),
                        nullif(regexp_extract(channame, '^[^/]+/(.+)-[0-9a-fA-F]+$', 1), ''),
                        nullif(regexp_extract(channame, '^[^/]+/(.+)$', 1), '')) AS token,
               try_cast(json_extract_string(hangup_extra, '$.hangupcause') AS INTEGER) AS cause,
               nullif(json_extract_string(hangup_extra, '$.hangupsource'), '') AS hangup_source,
               nullif(json_extract_string(hangup_extra, '$.dialstatus'), '') AS dialstatus
        FROM chan
    ),
    caller AS (  -- the first channel, or its ;2 half when the call began with an Originate
        SELECT f.tenant, f.call_key, f.uniqueid AS first_uid,
               coalesce(t.uniqueid, f.uniqueid) AS caller_uid
        FROM named f
        LEFT JOIN named t ON t.tenant = f.tenant AND t.call_key = f.call_key
                         AND t.pair2 = f.pair1
        QUALIFY row_number() OVER (PARTITION BY f.tenant, f.call_key ORDER BY f.first_seq) = 1
    ),
    chans AS (  -- every channel with its role: caller, leg, connector or far end of a leg
        SELECT n.*, c.first_uid, c.caller_uid,
               t.uniqueid AS twin_uid, t.cause AS twin_cause,
               t.voicemail_at AS twin_voicemail_at, t.mailbox AS twin_mailbox,
               t.hangup_source AS twin_hangup_source,
               CASE WHEN n.uniqueid IN (c.first_uid, c.caller_uid) THEN 'caller'
                    WHEN n.half = '2' THEN 'far_end'
                    WHEN t.dialstatus IS NOT NULL OR coalesce(t.ran_dial, false)
                        THEN 'connector'
                    ELSE 'leg' END AS role
        FROM named n
        JOIN caller c ON c.tenant = n.tenant AND c.call_key = n.call_key
        LEFT JOIN named t ON t.tenant = n.tenant AND t.call_key = n.call_key
                         AND t.pair2 = n.pair1
    ),
    bridge_steps AS (
        SELECT tenant, call_key, uniqueid, eventtype, ts,
               lead(ts) OVER (PARTITION BY tenant, call_key, uniqueid ORDER BY seq) AS until
        FROM ev WHERE eventtype IN ('BRIDGE_ENTER', 'BRIDGE_EXIT', 'HANGUP', 'CHAN_END')
    ),
    talk AS (  -- time each channel spent in a bridge
        SELECT tenant, call_key, uniqueid, min(ts) AS bridged_at,
               sum(epoch(coalesce(until, ts) - ts)) AS bridged_s
        FROM bridge_steps WHERE eventtype = 'BRIDGE_ENTER' GROUP BY tenant, call_key, uniqueid
    ),
    caller_queue AS (  -- the queues the caller channel sat in, in order
        SELECT e.tenant, e.call_key, e.seq, e.ts, split_part(e.appdata, ',', 1) AS queue
        FROM ev e JOIN caller c ON c.tenant = e.tenant AND c.call_key = e.call_key
                               AND e.uniqueid = c.caller_uid
        WHERE e.appname = 'Queue' AND e.appdata IS NOT NULL
    ),
    queue_span AS (
        SELECT tenant, call_key, min(seq) AS from_seq, max(seq) AS to_seq,
               arg_min(queue, seq) AS queue, min(ts) AS entered_at
        FROM caller_queue GROUP BY tenant, call_key
    ),
    caller_end AS (  -- the first hang-up on the caller's side, and the caller's DIALSTATUS
        SELECT tenant, call_key, min(ended_at) AS hangup_at,
               arg_min(coalesce(dialstatus, ''), end_seq) AS first_dialstatus,
               max(dialstatus) FILTER (WHERE uniqueid = caller_uid) AS final_dialstatus
        FROM chans WHERE role = 'caller' GROUP BY tenant, call_key
    )"""


def _legs_sql(settings: Settings) -> str:
    """CTE steps from channels to legs with their result (needs _channels_sql before it)."""
    agent_token = (
        f"({sql.is_extension('h.token', settings)} AND NOT {sql.is_trunk_tech('h.channame')})"
    )
    return f""",
    rang AS (  -- one row per phone rung: the leaf channels a dialler reached
        SELECT h.*, coalesce(k.bridged_s, 0) AS bridged_s, k.bridged_at,
               CASE WHEN coalesce(h.voicemail_at, h.twin_voicemail_at) IS NOT NULL
                        THEN 'voicemail'
                    WHEN {agent_token} THEN 'agent'
                    WHEN NOT h.is_local OR regexp_full_match(h.token, '\\+?[0-9]+')
                        THEN 'external'
                    ELSE 'agent' END AS kind,
               h.answered_at IS NOT NULL AND k.bridged_at IS NOT NULL AS took_call,
               CASE WHEN h.rung_by_queue OR h.first_seq BETWEEN qs.from_seq AND qs.to_seq
                    THEN 'queue' ELSE 'dial' END AS leg_group
        FROM chans h
        LEFT JOIN talk k ON k.tenant = h.tenant AND k.call_key = h.call_key
                        AND k.uniqueid = h.uniqueid
        LEFT JOIN queue_span qs ON qs.tenant = h.tenant AND qs.call_key = h.call_key
        WHERE h.role = 'leg'
    ),
    judged AS (
        SELECT r.*, q.queue AS queue_name,
               CASE
                   WHEN r.took_call THEN 'answered'
                   WHEN r.cause = 26 OR EXISTS (
                       SELECT 1 FROM rang o
                       WHERE o.tenant = r.tenant AND o.call_key = r.call_key
                         AND o.uniqueid <> r.uniqueid AND o.took_call
                         AND o.answered_at BETWEEN r.ended_at - {SAME_MOMENT}
                                               AND r.ended_at + {SAME_MOMENT})
                       THEN 'cancelled_answered_elsewhere'
                   WHEN 17 IN (r.cause, r.twin_cause) THEN 'busy'
                   WHEN 21 IN (r.cause, r.twin_cause) THEN 'rejected'
                   WHEN coalesce(nullif(r.cause, 0), r.twin_cause) IN ({UNAVAILABLE_CAUSES})
                       THEN 'unavailable'
                   -- the caller left while it rang; a Dial that timed out and was followed by
                   -- the PBX hanging up says NOANSWER on the caller's side
                   WHEN ce.hangup_at BETWEEN r.started_at AND r.ended_at + {SAME_MOMENT}
                        AND ce.hangup_at >= r.ended_at - {SAME_MOMENT}
                        AND NOT (r.leg_group = 'dial' AND ce.first_dialstatus = 'NOANSWER')
                       THEN 'caller_hung_up'
                   WHEN r.ended_at >= max(r.ended_at) OVER w - {SAME_MOMENT}
                        AND ce.final_dialstatus = 'BUSY' THEN 'busy'
                   WHEN r.ended_at >= max(r.ended_at) OVER w - {SAME_MOMENT}
                        AND ce.final_dialstatus IN ('CHANUNAVAIL', 'CONGESTION')
                       THEN 'unavailable'
                   ELSE 'no_answer'
               END AS result
        FROM rang r
        JOIN caller_end ce ON ce.tenant = r.tenant AND ce.call_key = r.call_key
        ASOF LEFT JOIN caller_queue q
          ON q.tenant = r.tenant AND q.call_key = r.call_key AND r.first_seq >= q.seq
        WINDOW w AS (PARTITION BY r.tenant, r.call_key)
    ),
    voicemail AS (  -- voicemail reached by the caller's own dialplan or behind a dialled channel
        SELECT tenant, call_key, uniqueid, voicemail_at AS ring_started_at, ended_at, mailbox
        FROM chans WHERE role = 'caller' AND uniqueid = caller_uid AND voicemail_at IS NOT NULL
        UNION ALL
        SELECT tenant, call_key, uniqueid, twin_voicemail_at, ended_at, twin_mailbox
        FROM chans WHERE role = 'connector' AND twin_voicemail_at IS NOT NULL
    ),
    all_legs AS (
        SELECT tenant, call_key, uniqueid, channame, twin_uid, leg_group, kind, token,
               queue_name, started_at AS ring_started_at,
               CASE WHEN took_call THEN answered_at END AS answered_at, ended_at,
               CASE WHEN kind = 'voicemail' THEN 0.0 ELSE bridged_s END AS talk_s, result
        FROM judged
        UNION ALL
        SELECT tenant, call_key, uniqueid, NULL, NULL, 'dial', 'voicemail', mailbox, NULL,
               ring_started_at, ring_started_at, ended_at, 0.0, 'answered'
        FROM voicemail
    )"""


def _hangup_sql() -> str:
    """Who asked for the first hang-up of the call and of each answered leg."""
    return """,
    talker AS (  -- the channels (both Local halves) of each leg that took the call
        SELECT tenant, call_key, uniqueid AS leg_uid, kind, unnest([uniqueid, twin_uid]) AS uid
        FROM all_legs WHERE answered_at IS NOT NULL AND kind <> 'voicemail'
    ),
    party AS (  -- the caller side and every answered leg, with the side each speaks for
        SELECT h.tenant, h.call_key, h.uniqueid, h.channame, h.end_seq, h.hung_up,
               h.hangup_source,
               CASE WHEN h.role = 'caller'
                        THEN CASE WHEN o.origin_agent IS NULL THEN 'caller' ELSE 'agent' END
                    WHEN l.kind = 'agent' THEN 'agent' ELSE 'caller' END AS side,
               h.uniqueid = h.caller_uid AS pbx_view,
               CASE WHEN h.role = 'caller' THEN 'caller' ELSE l.leg_uid END AS group_id
        FROM chans h
        JOIN origin o ON o.tenant = h.tenant AND o.call_key = h.call_key
        LEFT JOIN talker l ON l.tenant = h.tenant AND l.call_key = h.call_key
                          AND l.uid = h.uniqueid
        WHERE h.role = 'caller' OR l.leg_uid IS NOT NULL
    ),
    hangups AS (  -- each HANGUP turned into the side that asked for it: the channel its
                  -- hangupsource names, else the channel itself; the PBX's own dialplan
                  -- hanging up the caller channel is nobody's choice (NULL)
        SELECT p.tenant, p.call_key, p.end_seq AS seq, p.group_id,
               CASE WHEN s.side IS NOT NULL THEN s.side
                    WHEN p.pbx_view AND p.hangup_source LIKE 'dialplan/%' THEN 'pbx'
                    WHEN p.pbx_view AND p.hangup_source IS NULL THEN NULL
                    ELSE p.side END AS side
        FROM party p
        LEFT JOIN party s ON s.tenant = p.tenant AND s.call_key = p.call_key
                         AND s.channame = p.hangup_source
        WHERE p.hung_up
    ),
    first_hangup AS (
        SELECT tenant, call_key, nullif(arg_min(side, seq), 'pbx') AS side
        FROM hangups GROUP BY tenant, call_key
    ),
    leg_hangup AS (
        SELECT l.tenant, l.call_key, l.uniqueid, nullif(arg_min(h.side, h.seq), 'pbx') AS side
        FROM all_legs l
        JOIN hangups h ON h.tenant = l.tenant AND h.call_key = l.call_key
                      AND h.group_id IN (l.uniqueid, 'caller')
        WHERE l.answered_at IS NOT NULL AND l.kind <> 'voicemail'
        GROUP BY l.tenant, l.call_key, l.uniqueid
    )"""


def cel_facts_sql(settings: Settings) -> dict[str, str]:
    """The facts views of design.md 3 over the raw CEL rows `{raw}`."""
    a = settings.asterisk
    channels = _channels_sql(settings)
    legs = _legs_sql(settings)
    origin = f""",
    origin AS (  -- the internal phone that placed the call, if one did
        SELECT c.tenant, c.call_key, c.first_uid, c.caller_uid,
               CASE WHEN {sql.is_extension("h.token", settings)}
                         AND NOT {sql.is_trunk_tech("h.channame")} THEN h.token END AS origin_agent
        FROM caller c JOIN named h ON h.tenant = c.tenant AND h.call_key = c.call_key
                                  AND h.uniqueid = c.caller_uid
    )"""
    ivr = (
        f"(lower(coalesce(e.appname, '')) IN ({sql.quote_list([x.lower() for x in a.ivr_apps])})"
        f" OR coalesce({sql.like_any('e.context', a.ivr_contexts)}, false))"
    )
    call_facts = f"""
    WITH {channels}{legs}{origin}{_hangup_sql()},
    flow AS (  -- what the caller side did, from its events
        SELECT e.tenant, e.call_key,
               min(e.ts) AS first_ts, max(e.ts) AS last_ts,
               min(e.ts) FILTER (WHERE e.eventtype = 'CHAN_START') AS started_at,
               min(e.ts) FILTER (WHERE e.eventtype = 'LINKEDID_END') AS linkedid_end,
               arg_min(e.cid_num, e.seq) FILTER (WHERE e.uniqueid IN (o.first_uid, o.caller_uid)
                                                   AND e.cid_num IS NOT NULL) AS caller_num,
               arg_min(e.exten, e.seq) FILTER (
                   WHERE e.uniqueid IN (o.first_uid, o.caller_uid)
                     AND regexp_full_match(coalesce(e.exten, ''), '\\+?[0-9]+')
                     AND e.exten IS DISTINCT FROM o.origin_agent) AS dialled,
               arg_min(e.cid_dnid, e.seq) FILTER (WHERE e.uniqueid IN (o.first_uid, o.caller_uid)
                                                    AND e.cid_dnid IS NOT NULL) AS dnid,
               max(e.seq) FILTER (WHERE e.uniqueid = o.caller_uid
                                   AND e.eventtype IN ('BRIDGE_ENTER', 'BRIDGE_EXIT'))
                   AS last_bridge_seq,
               max(e.seq) FILTER (WHERE e.uniqueid = o.caller_uid AND e.eventtype = 'APP_START'
                                   AND e.appname NOT IN ('Dial', 'Queue')) AS last_app_seq,
               string_agg(json_extract_string(e.extra, '$.digit'), '' ORDER BY e.seq)
                   FILTER (WHERE e.uniqueid = o.caller_uid AND e.eventtype = 'DTMF' AND {ivr})
                   AS ivr_path
        FROM ev e JOIN origin o ON o.tenant = e.tenant AND o.call_key = e.call_key
        GROUP BY e.tenant, e.call_key
    ),
    pos AS (  -- the caller channel's last place before it hung up (not the h extension)
        SELECT e.tenant, e.call_key, e.context, e.exten, e.appname
        FROM ev e JOIN caller c ON c.tenant = e.tenant AND c.call_key = e.call_key
                               AND e.uniqueid = c.caller_uid
        WHERE e.eventtype NOT IN ('HANGUP', 'CHAN_END', 'LINKEDID_END')
          AND coalesce(e.exten, '') <> 'h'
        QUALIFY row_number() OVER (PARTITION BY e.tenant, e.call_key ORDER BY e.seq DESC) = 1
    ),
    last_taken AS (  -- who the caller was last connected to
        SELECT tenant, call_key, arg_max(kind, answered_at) AS kind
        FROM all_legs WHERE answered_at IS NOT NULL GROUP BY tenant, call_key
    ),
    ringing_at_end AS (  -- phones still ringing when the caller hung up
        SELECT l.tenant, l.call_key,
               count(*) FILTER (WHERE l.kind = 'agent') AS agents,
               bool_or(l.kind = 'external') AS external
        FROM all_legs l JOIN caller_end ce ON ce.tenant = l.tenant AND ce.call_key = l.call_key
        WHERE l.answered_at IS NULL AND l.ring_started_at <= ce.hangup_at
          AND l.ended_at >= ce.hangup_at - {SAME_MOMENT}
        GROUP BY l.tenant, l.call_key
    )
    SELECT o.tenant, o.call_key, '{SOURCE}' AS source, {PRIORITY} AS priority,
           coalesce(f.started_at, f.first_ts) AS started_at,
           coalesce(f.linkedid_end, f.last_ts) AS ended_at,
           coalesce(f.caller_num, o.origin_agent) AS caller,
           coalesce(f.dialled, f.dnid) AS callee,
           CASE WHEN o.origin_agent IS NULL THEN coalesce(f.dialled, f.dnid) END AS line,
           o.origin_agent, qs.queue,
           CASE
               WHEN f.last_bridge_seq > coalesce(f.last_app_seq, 0) AND lt.kind IS NOT NULL
                   THEN lt.kind
               WHEN p.appname = 'Queue' THEN 'queue'
               WHEN r.external THEN 'external'
               WHEN r.agents > 1 THEN 'ring_group'
               WHEN r.agents = 1 THEN 'agent'
               ELSE {sql.stage_of("p.appname", "p.context", "p.exten", settings)}
           END AS end_stage,
           fh.side AS hangup_side,
           nullif(f.ivr_path, '') AS ivr_path,
           NULL::VARCHAR AS recording,
           -- DIALSTATUS speaks for Dial() only: Queue() leaves NOANSWER whoever gave up.
           CASE WHEN p.appname IS DISTINCT FROM 'Queue' THEN CASE ce.final_dialstatus
               WHEN 'NOANSWER' THEN 'timeout' WHEN 'CANCEL' THEN 'abandoned' END
           END AS exit_reason,
           qs.entered_at AS queue_entered_at
    FROM origin o
    JOIN flow f ON f.tenant = o.tenant AND f.call_key = o.call_key
    LEFT JOIN pos p ON p.tenant = o.tenant AND p.call_key = o.call_key
    LEFT JOIN queue_span qs ON qs.tenant = o.tenant AND qs.call_key = o.call_key
    LEFT JOIN last_taken lt ON lt.tenant = o.tenant AND lt.call_key = o.call_key
    LEFT JOIN ringing_at_end r ON r.tenant = o.tenant AND r.call_key = o.call_key
    LEFT JOIN first_hangup fh ON fh.tenant = o.tenant AND fh.call_key = o.call_key
    LEFT JOIN caller_end ce ON ce.tenant = o.tenant AND ce.call_key = o.call_key
    """
    leg_facts = f"""
    WITH {channels}{legs}{origin}{_hangup_sql()}
    SELECT l.tenant, l.call_key, '{SOURCE}' AS source, {PRIORITY} AS priority,
           l.leg_group, l.kind AS destination_kind,
           CASE WHEN l.kind = 'agent' THEN l.token END AS agent,
           CASE WHEN l.kind IN ('agent', 'voicemail')
                     AND regexp_full_match(coalesce(l.token, ''), '[0-9]+')
                THEN l.token END AS extension,
           CASE WHEN l.leg_group = 'queue' THEN l.queue_name END AS queue,
           l.ring_started_at, l.answered_at, l.ended_at,
           l.talk_s::DOUBLE AS talk_s, l.result,
           lh.side AS hangup_side
    FROM all_legs l
    LEFT JOIN leg_hangup lh ON lh.tenant = l.tenant AND lh.call_key = l.call_key
                           AND lh.uniqueid = l.uniqueid
    """
    key_links = """
    SELECT DISTINCT tenant, uniqueid AS alias_key, linkedid AS call_key
    FROM {raw}
    WHERE uniqueid IS NOT NULL AND linkedid IS NOT NULL
    """
    return {"call_facts": call_facts, "leg_facts": leg_facts, "key_links": key_links}
