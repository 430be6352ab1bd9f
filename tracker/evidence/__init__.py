"""Evidence that an action is done: links and checked uploads on actions, updates, ratings and recommendations."""
