"""Schema versions of the store, applied in order and recorded in `schema_migrations`.

A migration is never edited once released; a change of schema is a new entry. Raw tables belong
to their sources (each source's `raw_columns`) and are versioned by name (`raw_<format>_v1`).
"""

from __future__ import annotations

from callscope.store.rung import last_agent_rung_sql

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "canonical tables, imports, rejects, key links, phone numbers",
        """
        CREATE TABLE imports (
            import_id BIGINT PRIMARY KEY,
            tenant VARCHAR NOT NULL,
            file VARCHAR NOT NULL,
            format VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            size_bytes BIGINT NOT NULL,
            encoding VARCHAR,
            rows_read BIGINT,
            rows_new BIGINT,
            rejects BIGINT,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP
        );
        CREATE TABLE rejects (
            import_id BIGINT NOT NULL,
            tenant VARCHAR NOT NULL,
            file VARCHAR NOT NULL,
            format VARCHAR NOT NULL,
            line_no BIGINT,
            field VARCHAR,
            raw VARCHAR,
            reason VARCHAR NOT NULL
        );
        CREATE TABLE key_links (
            tenant VARCHAR NOT NULL,
            alias_key VARCHAR NOT NULL,
            call_key VARCHAR NOT NULL,
            PRIMARY KEY (tenant, alias_key)
        );
        CREATE TABLE phone_numbers (
            region VARCHAR NOT NULL,
            raw VARCHAR NOT NULL,
            e164 VARCHAR,
            PRIMARY KEY (region, raw)
        );
        CREATE TABLE calls (
            call_id VARCHAR NOT NULL,
            tenant VARCHAR NOT NULL,
            direction VARCHAR NOT NULL,
            started_at TIMESTAMP NOT NULL,
            ended_at TIMESTAMP,
            caller VARCHAR,
            callee VARCHAR,
            external_number VARCHAR,
            line VARCHAR,
            first_answered_at TIMESTAMP,
            answered_by VARCHAR,
            wait_s DOUBLE,
            talk_s DOUBLE,
            max_talk_s DOUBLE,
            outcome VARCHAR NOT NULL,
            end_stage VARCHAR,
            queue VARCHAR,
            ivr_path VARCHAR,
            hangup_side VARCHAR,
            recording VARCHAR,
            source VARCHAR NOT NULL
        );
        CREATE TABLE legs (
            call_id VARCHAR NOT NULL,
            tenant VARCHAR NOT NULL,
            leg_no INTEGER NOT NULL,
            destination_kind VARCHAR NOT NULL,
            agent VARCHAR,
            extension VARCHAR,
            queue VARCHAR,
            ring_started_at TIMESTAMP,
            answered_at TIMESTAMP,
            ended_at TIMESTAMP,
            ring_s DOUBLE,
            talk_s DOUBLE,
            result VARCHAR NOT NULL,
            hangup_side VARCHAR,
            source VARCHAR NOT NULL
        );
        CREATE TABLE agent_states (
            tenant VARCHAR NOT NULL,
            agent VARCHAR NOT NULL,
            state VARCHAR NOT NULL,
            reason VARCHAR,
            started_at TIMESTAMP NOT NULL,
            ended_at TIMESTAMP,
            source VARCHAR NOT NULL
        );
        CREATE TABLE agents (
            tenant VARCHAR NOT NULL,
            agent VARCHAR NOT NULL,
            name VARCHAR,
            team VARCHAR,
            PRIMARY KEY (tenant, agent)
        );
        """,
    ),
    (
        2,
        "calls: disposition of unanswered inbound calls, queue entry time",
        """
        ALTER TABLE calls ADD COLUMN disposition VARCHAR;
        ALTER TABLE calls ADD COLUMN queue_entered_at TIMESTAMP;
        """,
    ),
    (
        3,
        "web access: users, API tokens, login sessions",
        """
        CREATE TABLE users (
            username VARCHAR PRIMARY KEY,
            tenant VARCHAR NOT NULL,
            role VARCHAR NOT NULL,
            agent VARCHAR,
            password_hash VARCHAR NOT NULL,
            lang VARCHAR,
            created_at TIMESTAMP NOT NULL,
            disabled BOOLEAN NOT NULL DEFAULT false
        );
        CREATE TABLE api_tokens (
            token_id VARCHAR PRIMARY KEY,
            tenant VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            role VARCHAR NOT NULL,
            agent VARCHAR,
            secret_sha256 VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP,
            revoked_at TIMESTAMP
        );
        CREATE TABLE web_sessions (
            session_sha256 VARCHAR PRIMARY KEY,
            username VARCHAR NOT NULL,
            csrf VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL
        );
        """,
    ),
    # (live_inbox has a file of its own since: `live.inbox.attach_inbox` moves this table's
    # rows there and drops it at the first live start; its columns are defined there now)
    (
        4,
        "live: event inbox, notification outbox, missed-contact notification state",
        """
        CREATE TABLE live_inbox (
            tenant VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            event_key UBIGINT NOT NULL,
            seq BIGINT NOT NULL,
            call_key VARCHAR,
            received_at TIMESTAMP NOT NULL,
            payload VARCHAR NOT NULL
        );
        CREATE TABLE notify_outbox (
            message_key VARCHAR PRIMARY KEY,
            tenant VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            subject_key VARCHAR,
            channel VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            body VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            due_at TIMESTAMP NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error VARCHAR,
            sent_at TIMESTAMP,
            dead_at TIMESTAMP
        );
        CREATE TABLE notify_contacts (
            tenant VARCHAR NOT NULL,
            contact_key VARCHAR NOT NULL,
            external_number VARCHAR NOT NULL,
            first_missed_at TIMESTAMP NOT NULL,
            attempts INTEGER NOT NULL,
            owner VARCHAR,
            team VARCHAR,
            deadline TIMESTAMP NOT NULL,
            state VARCHAR NOT NULL,
            resolution VARCHAR,
            closed_at TIMESTAMP,
            PRIMARY KEY (tenant, contact_key)
        );
        """,
    ),
    (
        5,
        "missed contacts kept at import: contacts, contact_calls, contacts_state",
        """
        CREATE TABLE contacts (
            tenant VARCHAR NOT NULL,
            contact_id VARCHAR NOT NULL,
            external_number VARCHAR NOT NULL,
            seg BIGINT NOT NULL,
            first_missed_at TIMESTAMP NOT NULL,
            last_missed_at TIMESTAMP NOT NULL,
            attempts BIGINT NOT NULL,
            end_stage VARCHAR,
            line VARCHAR,
            queue VARCHAR,
            agent VARCHAR,
            agents_rung VARCHAR[],
            status VARCHAR NOT NULL,
            attempted_at TIMESTAMP,
            resolved_at TIMESTAMP,
            resolved_by_agent VARCHAR,
            time_to_resolution_s DOUBLE,
            team VARCHAR,
            work_s DOUBLE,
            within_sla BOOLEAN,
            colour VARCHAR NOT NULL,
            closing_call_id VARCHAR,
            try_call_id VARCHAR
        );
        CREATE TABLE contact_calls (
            tenant VARCHAR NOT NULL,
            call_id VARCHAR NOT NULL,
            contact_id VARCHAR NOT NULL,
            external_number VARCHAR NOT NULL
        );
        CREATE TABLE contacts_state (
            tenant VARCHAR PRIMARY KEY,
            fingerprint VARCHAR NOT NULL,
            built_at TIMESTAMP NOT NULL
        );
        """,
    ),
    (
        6,
        "legs: the facts of their call the legs-side reports filter and count by",
        # A call's direction, start and answer are facts of the call, written with its legs
        # (the assembler writes both together), so a report over legs reads them here instead
        # of joining ten million calls. The table is rebuilt in
        # its old row order (a rowid sort): an UPDATE of every row costs more, and the order
        # keeps ring_started_at's zone maps useful for short periods.
        """
        CREATE TABLE legs_v6 (
            call_id VARCHAR NOT NULL,
            tenant VARCHAR NOT NULL,
            leg_no INTEGER NOT NULL,
            destination_kind VARCHAR NOT NULL,
            agent VARCHAR,
            extension VARCHAR,
            queue VARCHAR,
            ring_started_at TIMESTAMP,
            answered_at TIMESTAMP,
            ended_at TIMESTAMP,
            ring_s DOUBLE,
            talk_s DOUBLE,
            result VARCHAR NOT NULL,
            hangup_side VARCHAR,
            source VARCHAR NOT NULL,
            call_direction VARCHAR,
            call_started_at TIMESTAMP,
            call_first_answered_at TIMESTAMP,
            call_max_talk_s DOUBLE
        );
        INSERT INTO legs_v6
        SELECT l.call_id, l.tenant, l.leg_no, l.destination_kind, l.agent, l.extension,
               l.queue, l.ring_started_at, l.answered_at, l.ended_at, l.ring_s, l.talk_s,
               l.result, l.hangup_side, l.source,
               c.direction, c.started_at, c.first_answered_at, c.max_talk_s
        FROM legs l
        LEFT JOIN calls c ON c.tenant = l.tenant AND c.call_id = l.call_id
        ORDER BY l.rowid;
        DROP TABLE legs;
        ALTER TABLE legs_v6 RENAME TO legs;
        """,
    ),
    (
        7,
        "calls: whether the call is its customer's first of the local day",
        # Marked at import (callscope.metrics.first_calls), for the zone first_calls_state
        # names: false until then, and the reports compute it themselves meanwhile.
        """
        ALTER TABLE calls ADD COLUMN first_of_day BOOLEAN DEFAULT false;
        CREATE TABLE first_calls_state (
            tenant VARCHAR PRIMARY KEY,
            fingerprint VARCHAR NOT NULL,
            built_at TIMESTAMP NOT NULL
        );
        """,
    ),
    (
        8,
        "legs: whether the leg is its agent's first of the call",
        # An agent's lost calls count the missed calls they were rung for, once however often
        # they rang: marking each agent's first leg of a call lets the agents report count
        # them in its one pass over the legs instead of a DISTINCT over (agent, call) (a
        # second pass). A fact of the call's legs, written with them by the assembler. Only
        # the few repeated (call, agent) pairs are looked for (a hash aggregate): a window
        # over every leg in a rebuilt table took 4 times as long and 3 times the memory.
        """
        ALTER TABLE legs ADD COLUMN agent_first_leg BOOLEAN;
        UPDATE legs SET agent_first_leg = true
        WHERE destination_kind = 'agent' AND agent IS NOT NULL;
        UPDATE legs SET agent_first_leg = false
        FROM (
            SELECT tenant AS r_tenant, call_id AS r_call, agent AS r_agent, min(leg_no) AS first
            FROM legs
            WHERE destination_kind = 'agent' AND agent IS NOT NULL
            GROUP BY ALL
            HAVING count(*) > 1
        ) r
        WHERE legs.tenant = r.r_tenant AND legs.call_id = r.r_call AND legs.agent = r.r_agent
          AND legs.destination_kind = 'agent' AND legs.leg_no > r.first;
        """,
    ),
    (
        9,
        "calls: the agent rung last (who an unanswered call is attributed to)",
        # A fact of the call's legs (callscope.store.rung), written with the call by the
        # assembler: service by agent or team then reads it off the call instead of grouping a
        # year's legs by call and joining a million unanswered calls to the result.
        """
        ALTER TABLE calls ADD COLUMN last_agent_rung VARCHAR;
        UPDATE calls SET last_agent_rung = r.last_agent_rung
        FROM ("""
        + last_agent_rung_sql("legs")
        + """) r
        WHERE calls.tenant = r.tenant AND calls.call_id = r.call_id;
        """,
    ),
]

LATEST = MIGRATIONS[-1][0]
