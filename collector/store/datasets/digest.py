"""A dataset's digest: a hash of its records' content that follows every change cheaply.

Each record has a content hash (SHA-256 over the canonical JSON of its inputs,
expectations, outputs and tags, and its source). The dataset keeps the sum of its
records' content hashes modulo 2**256: a merge adds the hashes of new and changed records
and subtracts those of the states they replace, a delete subtracts, so the sum always
equals the one a full scan would give, whatever order records were written in. The
digest shown to users is the first 16 hex characters of the SHA-256 of that sum, so it
is equal for equal content (ids and times do not count) and changes when any record does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from spyglass.canonical_json import sha256_hex

MODULUS = 1 << 256
EMPTY_SUM = "0" * 64
DIGEST_LENGTH = 16
_SEPARATOR = "\x1e"  # never raw inside JSON text; source_id, which may hold it, comes last


def content_hash(
    canonical_inputs: str,
    canonical_expectations: str,
    canonical_outputs: str | None,
    canonical_tags: str,
    source_type: str,
    source_id: str | None,
) -> str:
    """The content hash of one record state, from the canonical texts of its parts."""
    return sha256_hex(
        _SEPARATOR.join(
            (
                canonical_inputs,
                canonical_expectations,
                canonical_outputs or "",
                canonical_tags,
                source_type,
                source_id or "",
            )
        )
    )


def updated_sum(current: str, added: Iterable[str], removed: Iterable[str]) -> str:
    """The running sum (64 hex characters) after adding and removing content hashes."""
    total = int(current, 16)
    total += sum(int(h, 16) for h in added)
    total -= sum(int(h, 16) for h in removed)
    return f"{total % MODULUS:064x}"


def digest(running_sum: str) -> str:
    """The user-facing digest of a running sum."""
    return hashlib.sha256(bytes.fromhex(running_sum)).hexdigest()[:DIGEST_LENGTH]


EMPTY_DIGEST = digest(EMPTY_SUM)
