"""How each event changes the read models: one module per area, each function a handler ``(tx, event)``
that writes only in the ``tx`` it is given (the inbox row commits with it, so each event applies once)."""
