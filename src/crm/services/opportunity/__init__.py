"""opportunity-service: deals (``/api/opportunities``) and their approval workflow (``/api/approvals``).

Deals live in ``service.py``, approvals in ``approvals_service.py``; ``handlers.py`` tracks sales activity
on deals and runs the user- and customer-deletion sagas; a projection of customer-service's customers
(``customers`` table) decides which customers may take deals.
"""
