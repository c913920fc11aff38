"""webox's PostgreSQL backend: Django's, with a pooled connection's checkout made cheap (base.py)."""
