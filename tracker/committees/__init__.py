"""Committees that oversee plans (IJB, performance and audit committee, strategic planning group)."""
