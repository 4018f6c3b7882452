"""agentkit chat: the Textual front end (``agentkit.tui.app.AgentkitApp``)."""
