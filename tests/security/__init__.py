"""What a viewer may see and what hostile input gets: the front door, CSRF, tokens, sessions, fuzzing."""
