"""Wording a public update should avoid: guesses about the cause.

A public update says what is known now. A guess published during an outage is quoted back when
it turns out wrong, and it can blame a vendor or a team before anyone knows; the cause belongs
in the post-incident report, once it is known. The check warns, it never blocks."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Words that guess at a cause.
SPECULATION = re.compile(
    r"\b(probably|we think|we believe|root cause|caused by|likely|possibly|might be|suspect\w*)\b",
    re.IGNORECASE,
)


def speculation_in(*texts: str) -> list[str]:
    """The speculative phrases in `texts`, each once, in the order they first appear."""
    found = [match.group(0).lower() for text in texts for match in SPECULATION.finditer(text)]
    return list(dict.fromkeys(found))


def warning(found: Sequence[str]) -> str:
    """The warning shown for the speculative phrases `found`, saying why they hurt."""
    words = ", ".join(f"“{phrase}”" for phrase in found)
    return (
        f"This reads as a guess about the cause ({words}). Say what is known now; the cause "
        "belongs in the post-incident report."
    )


def warnings_for(*texts: str) -> list[str]:
    """One warning naming the speculative phrases in `texts`, or none."""
    found = speculation_in(*texts)
    return [warning(found)] if found else []
