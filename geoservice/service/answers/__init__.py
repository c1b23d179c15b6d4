"""Typed answers of the service, the same for every face (the API returns them, the CLI prints them)."""
