"""Deployment of Frontline past one process: the scaled mode (`make run-scaled`), see deploy/README.md."""
