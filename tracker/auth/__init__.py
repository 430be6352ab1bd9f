"""Users, their roles in partnerships, and signing in."""
