"""Frameworks partnerships rate themselves against: themes (key features, outcomes) and items."""
