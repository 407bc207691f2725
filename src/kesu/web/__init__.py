"""Server-rendered pages (Jinja2 + htmx), in Simplified Chinese with English selectable."""
