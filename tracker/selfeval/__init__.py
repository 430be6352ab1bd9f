"""Self-evaluation rounds: a partnership's ratings of a framework's items, round after round."""
