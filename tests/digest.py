"""A digest of everything a workspace's database holds, to prove a refused command changed
nothing: compare it before and after."""

from __future__ import annotations

import hashlib

from sqlalchemy import MetaData, create_engine, select


def database_digest(url: str) -> str:
    """SHA-256 over every row of every table, in a fixed order."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        digest = hashlib.sha256()
        with engine.connect() as connection:
            for table in sorted(metadata.tables.values(), key=lambda t: t.name):
                rows = connection.execute(select(table)).all()
                digest.update(table.name.encode())
                for row in sorted(repr(tuple(row)) for row in rows):
                    digest.update(row.encode())
        return digest.hexdigest()
    finally:
        engine.dispose()
