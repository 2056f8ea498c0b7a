"""ICD-10-CM: the CMS tabular list bundled in ``simple_icd_10_cm``.

``simple_icd_10_cm`` parses its XML when imported (about 1.6 s), so the library is imported
only when a code is first looked up.
"""

from __future__ import annotations

import re
import warnings
from types import ModuleType

from .code import Code
from .patterns import ICD10CM_CODE

__all__ = ["Icd10cmTable", "icd10cm_release"]


def _import_icd10cm() -> ModuleType:
    """Import ``simple_icd_10_cm`` (it parses its XML at import) without its deprecation noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    module: ModuleType = simple_icd_10_cm
    return module


def icd10cm_release() -> str:
    """Name the CMS release bundled in ``simple_icd_10_cm`` from its data file's name.

    Returns
    -------
    str
        The release as the file names it (``"april-2026"``...), or ``"unknown"``.
    """
    import importlib.resources

    try:
        names = [p.name for p in importlib.resources.files("simple_icd_10_cm.data").iterdir()]
    except (ModuleNotFoundError, OSError):
        return "unknown"
    for name in names:
        if match := re.fullmatch(r"icd10cm?-tabular-(.+)\.xml", name):
            return match.group(1)
    return "unknown"


class Icd10cmTable:
    """The ICD-10-CM codes of ``simple_icd_10_cm``, with their CMS descriptions.

    Parameters
    ----------
    library : module
        The imported ``simple_icd_10_cm``.
    """

    __slots__ = ("library",)

    def __init__(self, library: ModuleType) -> None:
        self.library = library

    @classmethod
    def load(cls) -> Icd10cmTable:
        """Import the library (about 1.6 s) and wrap it."""
        return cls(_import_icd10cm())

    def get(self, code: str) -> Code | None:
        """Look up a category or subcategory code, dotted (``"G24.02"``) or not (``"G2402"``).

        Returns
        -------
        Code or None
            The code, dotted, with its CMS description and ``leaf`` (billable) flag; None for
            a code the table lacks, a chapter or a block (``"G20-G26"``).
        """
        if not isinstance(code, str) or ICD10CM_CODE.fullmatch(code.strip()) is None:
            return None
        lib = self.library
        code = code.strip()
        if not lib.is_valid_item(code) or lib.is_chapter_or_block(code):
            return None
        dotted = lib.add_dot(code)
        return Code("ICD-10-CM", dotted, lib.get_description(dotted), leaf=lib.is_leaf(dotted))
