"""The strategist's browser app (Solara): what-if scenarios, charts, export."""
