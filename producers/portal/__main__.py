"""`python -m producers.portal run [--host H] [--port P]`: migrate, demo accounts on first run, gunicorn.
Any other arguments are Django management commands (`python -m producers.portal createsuperuser`)."""

from __future__ import annotations

import argparse
import os
import sys


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cell35 portal")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker: uploads in flight at once")
    parser.add_argument("--no-demo", action="store_true", help="do not create the demo accounts")
    options = parser.parse_args(argv)
    import django
    from django.core.management import call_command
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    if not options.no_demo:
        from producers.portal import demo
        lines = demo.ensure()
        print(f"portal: http://{options.host}:{options.port}/portal/ — log in as:", *lines, sep="\n", flush=True)
    # Site builds run in a background thread (previews.py): no request waits for one.
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "producers.portal.wsgi:application",
                              "--bind", f"{options.host}:{options.port}", "--workers", str(options.workers),
                              "--threads", str(options.threads), "--timeout", "120", "--access-logfile", "-",
                              # one control socket per user home would be shared by every portal on the machine
                              "--no-control-socket"])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "producers.portal.settings")
    if argv[:1] == ["run"]:
        return run(argv[1:])
    from django.core.management import execute_from_command_line
    execute_from_command_line(["cell35 portal", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
