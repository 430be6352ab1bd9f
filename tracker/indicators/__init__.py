"""Performance indicators beside the plans: targets, periodic values, trends."""
