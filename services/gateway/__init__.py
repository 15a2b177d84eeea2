"""The HTTP API: authentication, routing to RPC, OpenAPI (issue 7)."""
