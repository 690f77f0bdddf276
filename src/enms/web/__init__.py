"""The web dashboard: Jinja2 pages and static files (plotly.js from the installed package)."""
