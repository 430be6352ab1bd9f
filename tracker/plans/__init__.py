"""Plans and their tracked actions, with the history of progress updates."""
