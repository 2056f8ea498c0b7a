"""The registry: a clinic's patients followed over visits, on SQLite or PostgreSQL.

Install the ``registry`` extra (SQLAlchemy, Alembic, psycopg). Modules, edge to core:

==============  ================================================================================
``store``       :class:`~contraxis.registry.store.Registry`: patients, visits, re-assessment,
                course, scales, toxin, stimulation, exports; roles checked, every read and
                write audited
``models``      the tables (SQLAlchemy 2); ``migrations/`` their Alembic revisions;
                ``schema`` upgrades a database; ``database`` the engines' differences
``course``      spread to adjacent regions, distribution changes, new secondary features
``changes``     what changed between two assessments of a visit
``scales``      rating scales' items and scoring; ``toxin`` the toxin labels' checks
``dbs``         deep brain stimulation follow-up at 1, 3, 6 and 12 months
``cohort``      the cohort overview in SQL; ``pages`` the timeline and cohort pages
``export``      GA4GH phenopacket v2, FHIR R4 Bundle, the registry's own JSON;
                ``transfer`` imports; ``bench`` the benchmark
==============  ================================================================================

Nothing here is imported by the core: the engine never reads the registry.
"""
