"""Audit recommendations: audit reports, their graded recommendations, and the two-step closure (issue 16).

Not to be confused with tracker.audit, the append-only audit trail of every change.
"""
