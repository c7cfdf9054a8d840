"""Registry operations of the Engine facade (pull, push, login, browsing)."""

from __future__ import annotations


class RegistryOps:
    """Mixed into :class:`engine.api.Engine`; ``self.store`` is the Store."""
