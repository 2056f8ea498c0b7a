"""The registry: a clinic's patients followed over visits, on SQLite or PostgreSQL.

Install the ``registry`` extra (SQLAlchemy, Alembic, psycopg). See :mod:`contraxis.registry.store`.
"""
