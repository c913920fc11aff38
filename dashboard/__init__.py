"""Usage figures per provider and model, read from chat's models; nothing in chat imports it.

Operations (health, metrics, the ops page and its API, ``manage.py webox_doctor``'s checks) are
the ``dashboard.ops`` package; see its docstring.
"""
