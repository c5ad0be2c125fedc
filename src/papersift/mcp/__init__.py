"""The MCP server for AI agents (issue 13): one more sibling interface over the front door.

Empty for now; it will import only ``papersift.service`` and ``papersift.formats``, like ``api/``.
"""
