"""python -m deploy_checks dockerfile|compose|grafana|helm …"""

import sys

from . import compose, dockerfile, grafana, helm

CHECKS = {"dockerfile": dockerfile.main, "compose": compose.main, "grafana": grafana.main, "helm": helm.main}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: python -m deploy_checks {'|'.join(CHECKS)} [args]")
    sys.exit(CHECKS[sys.argv[1]]())
