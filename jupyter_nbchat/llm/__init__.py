"""Talking to Claude: the client, the prompts and the tools it may call."""
