"""Server databases as sources: named connections (connections.py), the read-only schema crawl
(schema.py), the text Claude reads (prompt.py), the service that caches crawls (service.py),
the kernel's environment variables (environment.py) and the routes (handlers.py)."""
