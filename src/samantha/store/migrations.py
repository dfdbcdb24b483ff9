"""Schema migrations: ordered, named steps, each applied once inside the writer's transaction."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from samantha.store.sqlite_search import ID_BITS

Migration = Callable[[], str]


def m001_people_conversations_messages() -> str:
    return """
        CREATE TABLE people (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at REAL NOT NULL
        );
        CREATE TABLE tokens (
            hash TEXT PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            created_at REAL NOT NULL
        );
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            title TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            summary_upto INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX conversations_by_person ON conversations(person_id, updated_at);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('complete', 'streaming', 'interrupted', 'failed')),
            created_at REAL NOT NULL
        );
        CREATE INDEX messages_by_conversation ON messages(person_id, conversation_id, id);
        CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming';
    """


def m002_memory() -> str:
    """Memory records with their source messages, full-text and vector indexes.

    Full-text rows carry the owner as an indexed token (``p<id>``) so a search is an
    intersection inside FTS5, never a scan of everyone's words.
    """
    return """
        ALTER TABLE messages ADD COLUMN recallable INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE messages ADD COLUMN learned INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX messages_to_learn ON messages(person_id, id) WHERE learned = 0;
        CREATE TABLE memories (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            kind TEXT NOT NULL
                CHECK (kind IN ('fact', 'event', 'preference', 'relation', 'reflection')),
            text TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            happened_on TEXT,
            happened_until TEXT,
            importance REAL NOT NULL DEFAULT 0.5,
            origin TEXT NOT NULL DEFAULT 'rule',
            created_at REAL NOT NULL,
            superseded_by INTEGER REFERENCES memories(id) ON DELETE SET NULL
        );
        CREATE INDEX memories_by_person ON memories(person_id, kind, id);
        CREATE INDEX memories_current ON memories(person_id, subject)
            WHERE subject != '' AND superseded_by IS NULL;
        CREATE TABLE memory_sources (
            memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            PRIMARY KEY (memory_id, message_id)
        );
        CREATE INDEX memory_sources_by_message ON memory_sources(message_id);
        CREATE VIRTUAL TABLE turn_fts USING fts5(
            owner, body, context, tokenize = 'porter unicode61'
        );
        CREATE VIRTUAL TABLE memory_fts USING fts5(owner, body, tokenize = 'porter unicode61');
        CREATE TABLE vectors (
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            item TEXT NOT NULL CHECK (item IN ('turn', 'memory')),
            item_id INTEGER NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (person_id, item, item_id)
        ) WITHOUT ROWID;
        CREATE TABLE vector_versions (
            person_id INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
            version INTEGER NOT NULL
        );
    """


def m003_retired_ids() -> str:
    """The highest id each table has handed out, so a deleted person's id is never reused.

    SQLite gives a new row the highest rowid plus one, so deleting the newest person would
    hand their id to the next one, and anything still holding the old id (a cache in a
    running server, a client, a log line) would then point at a stranger.
    """
    return """
        CREATE TABLE retired_ids (
            name TEXT PRIMARY KEY,
            highest INTEGER NOT NULL
        );
    """


def m004_events() -> str:
    """Each person's event stream: what she sends on her own (proactive messages, notices),
    kept so a client that was away receives it when it comes back, in order, once."""
    return """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id),
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE INDEX events_by_person ON events (person_id, id);
    """


def m005_departure() -> str:
    """Her departure: one row once it begins, and one per person whose farewell is written,
    in the same transaction as the farewell itself, so a run that stops anywhere resumes
    with exactly the people still waiting and nobody gets two."""
    return """
        CREATE TABLE departure (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            started_at REAL NOT NULL,
            finished_at REAL
        );
        CREATE TABLE farewells (
            person_id INTEGER PRIMARY KEY REFERENCES people(id),
            conversation_id INTEGER NOT NULL,
            message_id INTEGER NOT NULL,
            event_id INTEGER NOT NULL,
            written_at REAL NOT NULL
        );
    """


def m006_follow_ups() -> str:
    """Follow-ups she sends on her own, and each person's say in them.

    ``follow_ups`` records each event memory she followed up, by topic (its subject, or the
    subject a correction of it would share), so neither the memory nor a correction of it
    is asked about twice. The message itself holds the words. ``person_settings`` keeps
    what a person chose; a missing row or a NULL keeps the operator's default. The partial
    index lets one query find every person's recent events by the day they ended.
    """
    return """
        CREATE TABLE person_settings (
            person_id INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
            proactive INTEGER CHECK (proactive IN (0, 1)),
            quiet_start TEXT,
            quiet_end TEXT,
            updated_at REAL NOT NULL
        );
        CREATE TABLE follow_ups (
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            topic TEXT NOT NULL,
            memory_id INTEGER NOT NULL,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            event_id INTEGER NOT NULL,
            sent_at REAL NOT NULL,
            PRIMARY KEY (person_id, topic)
        );
        CREATE INDEX follow_ups_by_day ON follow_ups (person_id, sent_at);
        CREATE INDEX follow_ups_by_message ON follow_ups (message_id);
        CREATE INDEX memories_events_by_end ON memories (coalesce(happened_until, happened_on))
            WHERE kind = 'event' AND superseded_by IS NULL;
    """


def m007_letters() -> str:
    """Letters a person writes with her, in their own voice: to whom, from which notes (what
    they asked for, each redraft's note added), and the words as they stand now."""
    return """
        CREATE TABLE letters (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            recipient TEXT NOT NULL,
            notes TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX letters_by_person ON letters (person_id, id);
    """


def m008_relationships() -> str:
    """Each person's bond with her and its milestones; her inner life, which is nobody's.

    ``relationships.tallies`` is JSON: what has been counted of the person's messages so far
    (see ``samantha.relationship``). ``inner_life`` holds each version of her inner life with
    the aggregate counts it came from, never a person's words.
    """
    return """
        CREATE TABLE relationships (
            person_id INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
            stage TEXT NOT NULL,
            stage_since REAL NOT NULL,
            closeness REAL NOT NULL,
            trust REAL NOT NULL,
            shared INTEGER NOT NULL,
            tallies TEXT NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX relationships_by_stage ON relationships (stage);
        CREATE TABLE milestones (
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            text TEXT NOT NULL,
            at REAL NOT NULL,
            message_id INTEGER,
            PRIMARY KEY (person_id, key)
        );
        CREATE TABLE inner_life (
            version INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            state TEXT NOT NULL,
            material TEXT NOT NULL
        );
    """


def m009_session_reminder() -> str:
    """Each person's own session reminder, in minutes: NULL keeps the operator's default
    (``session_reminder_min``), 0 is none."""
    return """
        ALTER TABLE person_settings ADD COLUMN session_reminder_min INTEGER
            CHECK (session_reminder_min BETWEEN 0 AND 1440);
    """


def m010_vector_changes() -> str:
    """When each vector was added, and when the person's last one was removed, as versions
    of ``vector_versions``: a reader holding their vectors at one version reads only what
    came after it, and everything again only after a removal."""
    return """
        ALTER TABLE vectors ADD COLUMN added INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE vector_versions ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX vectors_added ON vectors(person_id, added);
    """


def m011_turn_kinds() -> str:
    """What each turn's nouns are kinds of (``memory.kinds``), searched on their own, and
    which learned turns still lack them: turns learned before this step, or without
    WordNet, gain them as their person next learns."""
    return """
        CREATE VIRTUAL TABLE turn_kinds USING fts5(owner, kinds, tokenize = 'porter unicode61');
        ALTER TABLE messages ADD COLUMN kinded INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX messages_unkinded ON messages(person_id, id)
            WHERE learned = 1 AND kinded = 0 AND recallable = 1;
    """


def m012_full_text_blocks() -> str:
    """Full-text rowids become the person's id above the item's (``sqlite_search.key``), so
    each person's rows lie together in every posting list: the indexes are written again,
    a person at a time. A row whose turn or record is gone is left behind."""
    steps = []
    for table, columns, rows in (
        ("turn_fts", ("owner", "body", "context"), "messages"),
        ("turn_kinds", ("owner", "kinds"), "messages"),
        ("memory_fts", ("owner", "body"), "memories"),
    ):
        listed = ", ".join(columns)
        steps.append(f"""
            CREATE VIRTUAL TABLE {table}_blocks USING fts5(
                {listed}, tokenize = 'porter unicode61'
            );
            INSERT INTO {table}_blocks (rowid, {listed})
                SELECT r.person_id << {ID_BITS} | f.rowid, {", ".join(f"f.{c}" for c in columns)}
                FROM {table} f JOIN {rows} r ON r.id = f.rowid ORDER BY 1;
            DROP TABLE {table};
            ALTER TABLE {table}_blocks RENAME TO {table};
        """)
    return "".join(steps)


def m013_search_merges_in_pairs() -> str:
    """FTS5's ``merge`` command merges two segments of a level, not four, in the full-text
    indexes (``sqlite_tidy``, which says when it is run); its own merging is unchanged.
    The tables are named here, as in step 12: a step says what it did when it was written,
    whatever indexes come later."""
    return "".join(
        f"INSERT INTO {table} ({table}, rank) VALUES ('usermerge', 2);"
        for table in ("turn_fts", "turn_kinds", "memory_fts")
    )


def m014_current_records_searched() -> str:
    """The records' full-text index holds current records only (``sqlite_memory``): those
    superseded before this step leave it. FTS5 notes each deletion in a new segment; the
    segments are merged as writes go on (``sqlite_tidy``)."""
    return f"""
        DELETE FROM memory_fts WHERE rowid IN (
            SELECT person_id << {ID_BITS} | id FROM memories WHERE superseded_by IS NOT NULL
        );
    """


MIGRATIONS: list[Migration] = [
    m001_people_conversations_messages,
    m002_memory,
    m003_retired_ids,
    m004_events,
    m005_departure,
    m006_follow_ups,
    m007_letters,
    m008_relationships,
    m009_session_reminder,
    m010_vector_changes,
    m011_turn_kinds,
    m012_full_text_blocks,
    m013_search_merges_in_pairs,
    m014_current_records_searched,
]


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the steps not yet applied, in order, each in its own transaction."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for step in MIGRATIONS:
        if step.__name__ in done:
            continue
        record = f"INSERT INTO _migrations VALUES ('{step.__name__}', {time.time()})"
        try:
            db.executescript(f"BEGIN IMMEDIATE; {step()}; {record}; COMMIT;")
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        applied.append(step.__name__)
    return applied
