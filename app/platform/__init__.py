"""Infrastructure, made once per app: Redis and the RQ queues, file storage (local or S3), signed
links, and the outbound transports (HTTP callbacks, SMTP). It imports nothing of the domain or the web."""
