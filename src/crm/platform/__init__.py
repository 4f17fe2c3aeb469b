"""The shared kernel: settings, database, events, bus, outbox, inbox, security, web. No CRM knowledge here."""
