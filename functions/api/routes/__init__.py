"""The API's routers, one per resource; ``api.app`` composes them into the resolver."""
