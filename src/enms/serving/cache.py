"""The cache of loaded model artifacts the predict endpoint answers from.

Keyed by ``(version id, artifact sha256)``: a version's artifact never changes under the same
hash, and an id reused by another artifact (a database emptied and refilled) misses. An entry
is put in only after :func:`enms.registry.artifacts.load` verified the signature and the hash,
so a hit skips both (the signature is verified once per loaded artifact). Least recently used
entries go first once ``max_entries`` are held. Thread-safe: requests run on a thread pool;
two requests missing the same key at once may both load it (counted), one copy is kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from enms.ml.base import EnergyModel

DEFAULT_MAX_ENTRIES = 32


@dataclass(frozen=True)
class CacheKey:
    """What identifies a loaded artifact."""

    version_id: int
    sha256: str


class ModelCache:
    """LRU of verified, deserialised models; ``loads`` counts the artifacts really loaded."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self.loads = 0
        self.hits = 0
        self._entries: OrderedDict[CacheKey, EnergyModel] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: CacheKey, load: Callable[[], EnergyModel]) -> EnergyModel:
        """The model cached under ``key``, or ``load()``'s (then cached).

        ``load`` runs outside the lock (verifying and unpickling takes a while) and is
        expected to verify the artifact; an exception it raises caches nothing.
        """
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
        model = load()
        with self._lock:
            self.loads += 1
            kept = self._entries.setdefault(key, model)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            return kept

    def clear(self) -> None:
        """Forget every loaded model."""
        with self._lock:
            self._entries.clear()
