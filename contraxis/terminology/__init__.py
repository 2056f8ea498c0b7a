"""Terminology: one resolver per vocabulary, shared by every reader.

``drugs``: names, brands, salts, misspellings, combination products and RxNorm codes to the
ingredients the knowledge base reasons about. ``labs``: LOINC codes to the analytes the rules
use, units parsed as UCUM and converted, plausible limits. ``problems``: ICD-10-CM, ICD-11 and
SNOMED CT problem-list codes to findings, history and known diagnoses. ``hpo``: alt_ids and
obsolete HPO ids to their current term. Each works over reviewed, sourced data files in
``terminology/data`` and kept libraries; none decides anything clinical.
"""
