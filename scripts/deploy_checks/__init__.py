"""Structural checks of the deployment artifacts, run by scripts/check-deploy after the real
validators (hadolint, docker-compose, check-jsonschema, promtool, helm, kubernetes-validate).
They check what those tools cannot: that the files agree with each other and with the code."""
