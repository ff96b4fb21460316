"""``python -m webhook editors-report [--output DIR ...]``: the service package's command-line jobs.

Run through the package rather than ``python -m webhook.editors``: importing the package already
imports its modules (the app registers their routes), and running one of them again as ``__main__``
would load it twice (runpy warns).
"""

from __future__ import annotations

import sys

from .editors import main as editors_report

COMMANDS = {"editors-report": editors_report}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m webhook {{{','.join(COMMANDS)}}} [options]", file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
