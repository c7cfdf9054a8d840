"""The registry client: OCI distribution spec / Docker Registry HTTP API v2."""
