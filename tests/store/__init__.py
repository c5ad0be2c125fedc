"""The store contract: every test runs on SQLite and on a real PostgreSQL server (the `store` fixture)."""
