"""Shared test settings.

In CI (the CI environment variable is set) hypothesis explores a fixed set of
examples, so a run is reproducible; on a developer's machine it keeps
exploring new ones.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
