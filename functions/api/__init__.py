"""The HTTP API (API Gateway HTTP API + JWT authorizer): connections, client files and references."""
