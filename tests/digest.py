"""A digest of everything a workspace's database holds, to prove a refused command changed
nothing: compare it before and after."""

from __future__ import annotations

import hashlib

from sqlalchemy import MetaData, create_engine, select


class Digest:
    """SHA-256 over every row of every table of one database, in a fixed order; the tables
    are read once, the rows on every call."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.metadata = MetaData()
        self.metadata.reflect(self.engine)

    def __call__(self) -> str:
        digest = hashlib.sha256()
        with self.engine.connect() as connection:
            for table in sorted(self.metadata.tables.values(), key=lambda t: t.name):
                digest.update(table.name.encode())
                rows = connection.execute(select(table)).all()
                for row in sorted(repr(tuple(row)) for row in rows):
                    digest.update(row.encode())
        return digest.hexdigest()

    def close(self) -> None:
        self.engine.dispose()


def database_digest(url: str) -> str:
    """The digest of the database at `url` now."""
    digest = Digest(url)
    try:
        return digest()
    finally:
        digest.close()
