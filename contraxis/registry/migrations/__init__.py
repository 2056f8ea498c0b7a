"""The registry's schema migrations (Alembic), shipped with the package and run by
:func:`contraxis.registry.store.upgrade`: ``contraxis registry init`` brings a database of any
earlier revision to the newest. Each revision has ``upgrade()`` and ``downgrade()``."""
