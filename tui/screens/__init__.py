"""Screens and modals of the agentkit chat app."""
