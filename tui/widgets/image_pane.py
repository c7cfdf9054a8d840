"""Base of the panes that show one aspect of the selected image."""

from __future__ import annotations

from textual.containers import Vertical


class ImagePane(Vertical):
    """Shows something about the image named ``ref``, loaded only while the pane is visible.

    The screen calls :meth:`show_image` as the selection moves and
    :meth:`activate` when the pane's tab opens; subclasses implement
    :meth:`load` (start a worker) and :meth:`clear`.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ref: str | None = None
        self.active = False
        self._loaded_ref: str | None = None

    def show_image(self, ref: str | None) -> None:
        """The selection changed to *ref* (an image ID)."""
        self.ref = ref
        if self.active:
            self._refresh_if_stale()

    def activate(self, active: bool = True) -> None:
        self.active = active
        if active:
            self._refresh_if_stale()

    def reload(self) -> None:
        """Load again even if the image did not change (the store did)."""
        self._loaded_ref = None
        if self.active:
            self._refresh_if_stale()

    def _refresh_if_stale(self) -> None:
        if self.ref == self._loaded_ref:
            return
        self._loaded_ref = self.ref
        if self.ref is None:
            self.clear()
        else:
            self.load(self.ref)

    def load(self, ref: str) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError
