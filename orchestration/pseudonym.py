"""person_ref: the keyed hash by which silver, gold and published tables refer to persons.

person_ref = lowercase hex of HMAC-SHA256(key, normalised 18-character id_number). The key comes
from ``POWERTRACE_PSEUDONYM_KEY``; without it the built-in development key is used, with a loud
warning, because refs made with a public key can be reversed by anyone holding the id list.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import warnings

DEV_KEY = "powertrace-development-key-not-for-production"
_warned = False


def pseudonym_key() -> str:
    global _warned
    key = os.environ.get("POWERTRACE_PSEUDONYM_KEY")
    if key:
        return key
    if not _warned:
        warnings.warn("POWERTRACE_PSEUDONYM_KEY is not set: person_ref uses the built-in DEVELOPMENT key; "
                      "set a secret key before loading real data", stacklevel=2)
        _warned = True
    return DEV_KEY


def person_ref(normalised_id: str, key: str | None = None) -> str:
    k = (key or pseudonym_key()).encode("utf-8")
    return hmac.new(k, normalised_id.encode("utf-8"), hashlib.sha256).hexdigest()
