"""SQL pieces every Asterisk source shares: who a channel belongs to, and which dialplan stage
an application or context means. One definition, used by the CDR and CEL facts."""

from __future__ import annotations

from callscope.settings import Settings


def quote_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def like_any(expr: str, patterns: list[str]) -> str:
    """True when `expr` matches any SQL LIKE pattern, case-insensitively."""
    if not patterns:
        return "false"
    return (
        "("
        + " OR ".join(f"{expr} ILIKE '{p.replace(chr(39), chr(39) * 2)}'" for p in patterns)
        + ")"
    )


def channel_peer(channel: str) -> str:
    """The peer or extension a channel name carries: `PJSIP/101-0000002a` -> 101,
    `SIP/101-...` -> 101, `Local/101@agents-00000003;1` -> 101, `PJSIP/trunk-0001` -> trunk."""
    return (
        f"nullif(regexp_extract({channel}, "
        r"'^(?:[A-Za-z0-9_]+/)([^-@;/\s]+)', 1), '')"
    )


def is_extension(expr: str, settings: Settings) -> str:
    """True when a number or peer name is an internal extension: a configured agent, or at
    most `internal_number_max_digits` digits."""
    n = settings.internal_number_max_digits
    short = f"regexp_full_match(coalesce({expr}, ''), '[0-9]{{1,{n}}}')"
    if not settings.agents:
        return f"({short})"
    return f"({short} OR coalesce({expr} IN ({quote_list(list(settings.agents))}), false))"


def is_trunk_tech(channel: str) -> str:
    """DAHDI/analog channel numbers are line ports, not extensions."""
    return f"(coalesce({channel}, '') ILIKE 'DAHDI/%' OR coalesce({channel}, '') ILIKE 'Zap/%')"


def stage_of(app: str, context: str, exten: str, settings: Settings) -> str:
    """The EndStage an unanswered caller was in, from the last application and context."""
    a = settings.asterisk
    return f"""CASE
        WHEN {app} IN ({quote_list(a.voicemail_apps)}) OR {like_any(context, a.voicemail_contexts)}
            THEN 'voicemail'
        WHEN {like_any(context, a.after_hours_contexts)} THEN 'after_hours'
        WHEN {app} = 'Queue' THEN 'queue'
        WHEN {exten} IN ({quote_list(a.invalid_extens)}) THEN 'invalid_destination'
        WHEN {app} IN ({quote_list(a.ivr_apps)}) OR {like_any(context, a.ivr_contexts)}
            THEN 'ivr'
        WHEN {app} IN ('Congestion', 'Zapateller') THEN 'invalid_destination'
        ELSE NULL END"""
