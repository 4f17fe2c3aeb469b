"""The five CRM services and the gateway. None imports another: they share only platform and contracts."""
