"""The web dashboard (Jinja2 + HTMX + Chart.js, vendored)."""
