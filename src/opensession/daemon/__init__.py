"""The background daemon: watches the tools' session folders, keeps the local index current,
and uploads new and changed sessions of the selected repositories to the connected server.

Also the agent hooks (``enable-hook``) and their target, ``stream-push``.
"""
