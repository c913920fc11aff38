"""Users: the user model, sign-up and log-in pages, limits, and the auth API.

Only its admin reads chat (totals per user); chat imports nothing of it but the user model.
"""
