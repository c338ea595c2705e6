"""Accounts: argon2 passwords, JWT access tokens, rotating refresh tokens, hashed API keys."""
