"""Widgets of the agentkit chat screen."""
