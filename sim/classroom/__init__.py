"""The classroom: a brand game played by teams in their browsers (``momentsim classroom``).

:mod:`sim.classroom.game` holds the rules and the saved state, :mod:`sim.classroom.web` the pages
(Starlette, served by uvicorn), :mod:`sim.classroom.charts` the debrief figures.
"""

from .game import Config, Game, GameError, new_config, open_game, replay

__all__ = ["Config", "Game", "GameError", "new_config", "open_game", "replay"]
