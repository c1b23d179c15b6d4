"""The facility registry: facilities with versions, the audit log, API keys and live responders,
on SQLite (embedded) or PostgreSQL + PostGIS, behind one interface (``db.Database``) with versioned
migrations (``schema``)."""
