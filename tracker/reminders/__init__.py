"""Reminder e-mails: overdue digests, update requests before committee meetings, escalations."""
