"""The built web app, carried by the wheel: ``dist/`` here is filled by the build (``deploy/Dockerfile``
copies ``web/dist`` into it before building the wheel) and is never committed. The gateway serves it
(``crm.services.gateway.webapp``)."""
