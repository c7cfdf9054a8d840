"""The command palette's Strata commands: every action of the screen in front."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class StrataCommands(Provider):
    """Offers the current screen's ``palette_commands()``: (title, help, action) triples."""

    def _commands(self) -> list[tuple[str, str, str]]:
        source = getattr(self.screen, "palette_commands", None)
        return list(source()) if source is not None else []

    def _runner(self, action: str):
        return partial(self.screen.run_action, action)

    async def discover(self) -> Hits:
        for title, help_text, action in self._commands():
            yield DiscoveryHit(title, self._runner(action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._runner(action), help=help_text)
