"""Risk registers: risks scored by likelihood x impact, reviewed over time, mitigated by tracked actions."""
