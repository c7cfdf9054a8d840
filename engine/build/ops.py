"""Build operations of the Engine facade."""

from __future__ import annotations


class BuildOps:
    """Mixed into :class:`engine.api.Engine`; ``self.store`` is the Store."""
