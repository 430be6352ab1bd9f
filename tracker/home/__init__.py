"""Each role's home page ("/"), and the "What changed" pages for a plan and a committee."""
