"""The interfaces over a real server: JSON API, HF-compatible API, website, CLI, MCP, feeds, exports."""
