"""Partnerships (IJBs/HSCPs) and the organisations that lead actions."""
