"""The API's routers, one per resource; ``api.resolver`` composes them into the resolver."""
