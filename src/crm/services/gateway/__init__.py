"""The API gateway: one door for ``/api/*``, routing each area to the service that owns it."""
