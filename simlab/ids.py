"""Random ids for runs, comparisons and sweeps.

An id is 50 random bits written as 10 characters of lowercase RFC 4648
base32 (``a``–``z``, ``2``–``7``): as much randomness as the 12 hex digits
used before (48 bits) in two characters fewer. The run id is stored in
every run row and in several indexes of each (about six copies per
agent-turn), so the two characters save about 12 bytes per agent-turn.
Lowercase keeps ids distinct as file names on case-insensitive file systems
(a run's columnar copy is a folder named by its id).
"""

from __future__ import annotations

import base64
import secrets

ID_LENGTH = 10
_RANDOM_BYTES = 7  # 56 bits: base32 of 7 bytes has 11 significant characters


def new_id() -> str:
    """A random id of :data:`ID_LENGTH` lowercase base32 characters (50 bits).

    Among n ids the chance of any two being equal is about n² / 2⁵¹ (the
    birthday bound): 4e-8 for 10,000 runs in one database.
    """
    text = base64.b32encode(secrets.token_bytes(_RANDOM_BYTES)).decode("ascii")
    return text[:ID_LENGTH].lower()
