"""The web application: server-rendered pages (Jinja2), htmx for partial updates, server-sent
events for live ones. Each domain keeps its pages in its own `views.py`; this package holds what
they share: templating, the signed-in person, CSRF, the layout and the static files."""
