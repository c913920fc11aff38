"""Usage figures per provider and model, read from chat's models; nothing in chat imports it."""
