#!/usr/bin/env python3
"""The two commands a newcomer needs; nothing but Python 3.11+ is required.

    python3 dev.py demo   install what the service needs, then run it in demo mode (SQLite)
                          (--port N, default 8000; --host H, default 127.0.0.1)
    python3 dev.py test   install what the tests need, then lint, type-check and run every
                          test on SQLite and PostgreSQL

Everything is installed into .venv from the hash-pinned lock files in requirements/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=env)


def install(lock: str) -> None:
    """Create .venv and install the lock file, unless it is installed already."""
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    lock_file = ROOT / "requirements" / lock
    stamp = VENV / f".installed-{lock}"
    digest = hashlib.sha256(
        lock_file.read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    pip = [BIN / "python", "-m", "pip", "--disable-pip-version-check", "-q"]
    run(*pip, "install", "--require-hashes", "-r", lock_file)
    run(*pip, "install", "--no-deps", "-e", ".")
    stamp.write_text(digest)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str, start: int) -> int:
    return next(p for p in range(start + 1, min(start + 200, 65536)) if not port_in_use(host, p))


def demo() -> None:
    parser = argparse.ArgumentParser(prog="python3 dev.py demo")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    args, rest = parser.parse_known_args(sys.argv[2:])
    # before anything is installed or migrated: a busy port is the commonest first failure
    if port_in_use(args.host, args.port):
        sys.exit(
            f"port {args.port} on {args.host} is in use (another demo?): "
            f"run python3 dev.py demo --port {free_port(args.host, args.port)}"
        )
    install("app.lock")
    # one worker: a demo on a laptop with 16 cores needs no 16 processes on one SQLite file
    # (BWK_WORKERS or --workers N still decide)
    env = {"BWK_WORKERS": "1", **os.environ, "BWK_MODE": "demo"}
    run(BIN / "bwk", "migrate", env=env)
    run(BIN / "bwk", "seed", "--demo", env=env)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
    base = f"http://[{shown}]:{args.port}" if ":" in shown else f"http://{shown}:{args.port}"
    print(
        f"\nDemo: {base}/api/v1/docs  (ReDoc: {base}/api/v1/redoc; "
        "accounts: README, 'Demo accounts')\n",
        flush=True,
    )
    serve = ["serve", "--host", args.host, "--port", str(args.port), *rest]
    os.execve(BIN / "bwk", [str(BIN / "bwk"), *serve], env)


def audit() -> None:
    """pip-audit over the locked runtime dependencies; fails on a vulnerability that
    requirements/audit-allow.txt does not list with a reason."""
    allowed = [
        line.split()[0]
        for line in (ROOT / "requirements" / "audit-allow.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    command = [
        str(BIN / "pip-audit"),
        "-r",
        "requirements/app.lock",
        "--no-deps",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "-f",
        "json",
    ]
    command += [arg for vuln in allowed for arg in ("--ignore-vuln", vuln)]
    print("+ pip-audit -r requirements/app.lock", flush=True)
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        sys.exit(f"pip-audit failed:\n{result.stderr[-2000:]}")
    found = [(d["name"], v["id"]) for d in report["dependencies"] for v in d.get("vulns", [])]
    skipped = [d["name"] for d in report["dependencies"] if "skip_reason" in d]
    audited = len(report["dependencies"]) - len(skipped)
    print(
        f"pip-audit: {audited} packages audited, {len(skipped)} could not be "
        "(the vulnerability service is not reachable from here)"
        if skipped
        else f"pip-audit: {audited} packages audited",
        flush=True,
    )
    if found:
        sys.exit(
            "known vulnerabilities not in requirements/audit-allow.txt: "
            + ", ".join(f"{name} {vuln}" for name, vuln in found)
        )


def test() -> None:
    install("dev.lock")
    audit()
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    run(BIN / "python", "-m", "pytest", *sys.argv[2:])


COMMANDS = {"demo": demo, "test": test}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    try:
        COMMANDS[sys.argv[1]]()
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode or 1)
