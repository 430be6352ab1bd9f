"""The JSON API under /api/v1, with personal bearer tokens."""
