"""sales-activity-service: meetings and tasks, the first-contact and follow-up tasks raised by other
services' events, the due-soon check, and the cancellations of the user- and customer-deletion sagas."""

SOURCE = "sales-activity-service"
