"""Notifications: the stream consumer (``relay``) and the webhook delivery worker (``deliver``)."""
