"""LOINC: no installable official table, so only the form and the check digit are checked.

The laboratory tests themselves are reviewed in the knowledge base (``labs.yaml``).
"""

from __future__ import annotations

from .patterns import LOINC_CODE

__all__ = ["loinc_check_digit_ok", "loinc_problem"]


def loinc_check_digit_ok(code: str) -> bool:
    """Tell whether a LOINC code is well formed and its mod-10 check digit is right.

    LOINC codes are ``NNNNN-C``: up to seven digits, a hyphen, and a check digit computed
    with the mod-10 (Luhn) algorithm over the digits before the hyphen. This is a syntactic
    check only: a code that passes may still not exist.

    Parameters
    ----------
    code : str
        A LOINC code such as ``"2951-2"``.

    Returns
    -------
    bool
        True if the code has the LOINC form and its check digit is right.
    """
    if not isinstance(code, str):
        return False
    match = LOINC_CODE.fullmatch(code.strip())
    if match is None:
        return False
    body, check_digit = match.group(1), int(match.group(2))
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:  # first, third, ... digit from the right is doubled
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10 == check_digit


def loinc_problem(code: str) -> str | None:
    """Say what is wrong with a LOINC code's form or check digit, or None if nothing is.

    Parameters
    ----------
    code : str
        A LOINC code.

    Returns
    -------
    str or None
        The reason, naming the code.
    """
    if loinc_check_digit_ok(code):
        return None
    if LOINC_CODE.fullmatch(code) is None:
        return f"LOINC code {code!r} is malformed (up to seven digits, '-', a check digit)"
    return f"LOINC code {code!r} has a wrong check digit"
