"""Quarterly progress workbooks for committees, their frozen snapshots, and update returns."""
