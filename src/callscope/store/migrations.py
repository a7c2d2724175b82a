"""Schema versions of the store, applied in order and recorded in `schema_migrations`.

A migration is never edited once released; a change of schema is a new entry. Raw tables belong
to their sources (each source's `raw_columns`) and are versioned by name (`raw_<format>_v1`).
"""

from __future__ import annotations

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
]

LATEST = MIGRATIONS[-1][0]
