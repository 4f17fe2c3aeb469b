"""customer-service: the accounts a sales team works. Publishes ``customer.events``; reacts to users."""
