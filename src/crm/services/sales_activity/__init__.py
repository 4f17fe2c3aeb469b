"""sales-activity-service.

Its domain lands with the Domain issue; for now: its database, outbox, inbox and health.
"""
