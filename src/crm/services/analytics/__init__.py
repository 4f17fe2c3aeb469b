"""analytics-service: consumes every event of the catalog into read models (users, customers, activities,
pipeline, approvals, in-app notifications, daily event counts) and serves reports, notifications and
metrics from them. ``rebuild.rebuild`` recomputes the read models from the topics."""
