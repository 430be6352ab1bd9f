"""A durable outbox: e-mail written in the request's transaction, sent afterwards by the scheduler or CLI."""
