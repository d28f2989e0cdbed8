"""The strategist\x27s browser app (Solara): what-if scenarios, charts, export."""
