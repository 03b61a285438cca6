"""Entry upload: the SQS worker that checks, renders, archives and uploads entries to MyUnisoft."""
