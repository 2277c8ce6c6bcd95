from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from commands.store import EventStore


class UnsupportedDatabaseUrl(ValueError):
    pass


def store_environment(url: str) -> dict[str, str]:
    """Maps a database URL onto the eventsourcing library's persistence settings."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise UnsupportedDatabaseUrl("database_url: sqlite URLs look like sqlite:///path/to/file.db")
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres"):
        query = parse_qs(parts.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/") or "salesledger",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "salesledger"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "10",
            # One round trip per save, with the library's table lock kept (see LockedFunctionRecorder).
            "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
            "APPLICATION_RECORDER_TOPIC": "adapters.postgres_recorder:LockedFunctionRecorder",
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return env
    raise UnsupportedDatabaseUrl(
        f"database_url: unsupported URL {url!r}; use sqlite:///PATH or postgresql://USER:PASS@HOST:PORT/DB"
    )


def open_store(url: str) -> EventStore:
    return EventStore(env=store_environment(url))
