"""auth-service: accounts, passwords, tokens and roles. Publishes ``user.events``."""
