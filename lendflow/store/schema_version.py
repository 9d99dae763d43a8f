"""The schema revision this code expects (a test holds it equal to alembic's head).

Kept apart from the migrations so that a plain command can check the database
without importing alembic or SQLAlchemy.
"""

HEAD_REVISION = "0034"
