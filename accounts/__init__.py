"""Users: the user model, sign-up and log-in pages, and the auth API. Imports nothing of chat."""
