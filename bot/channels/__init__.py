"""Edges that turn messages into engine events and actions into messages."""
