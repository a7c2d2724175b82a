"""Live: event intake (webhooks, Asterisk AMI), incremental assembly, the agent board, the
missed-call tracker and notifier with its durable outbox, digests (docs/live.md)."""
