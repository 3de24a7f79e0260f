"""Start-up time of the CLI against baselines measured side by side in the same run.

    .venv/bin/python benchmarks/startup.py [--runs 15] [--check]

(a) `smallcrm --help` against a minimal one-command Typer app's `--help` (target <= 1.2x).
(b) `smallcrm followup list --format json` and `smallcrm contact show ID` on a 10,000-contact
    database against a floor script that imports Typer and sqlmodel, opens the same database
    and runs one SELECT (target <= 1.2x).

Each pair runs alternately (A, B, A, B, ...) after a warm-up, and the medians are compared, so
a busy machine slows both sides alike. The interpreter and console script are the venv's own
(`sys.executable` and the `smallcrm` next to it), never a pyenv shim, which adds ~135 ms a start.
With --check the exit code is 1 when a ratio misses its target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TARGET = 1.2

MINIMAL_TYPER = '''
import typer

app = typer.Typer()


@app.command()
def main(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")


app()
'''

FLOOR = '''
import sys

import typer
from sqlmodel import Session, create_engine, text

app = typer.Typer()


@app.command()
def main(path: str, contact_id: int = 1) -> None:
    """Open the database and run one SELECT: the least any read command must do."""
    engine = create_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        row = session.exec(
            text("SELECT id, name, email FROM contact WHERE id = :id"), params={"id": contact_id}
        ).first()
    sys.stdout.write(f"{row}\\n")


app()
'''

# The floor again, leaving as the `smallcrm` executable does (os._exit once its output is
# flushed): interpreter teardown costs a short script ~0.1 s, which `smallcrm` skips, so this
# pair shows that the ratio does not come from that alone.
FLOOR_FAST_EXIT = FLOOR.replace(
    "\napp()\n",
    "\ntry:\n    app()\nexcept SystemExit:\n    pass\nsys.stdout.flush()\nimport os\nos._exit(0)\n",
)


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run of `argv`."""
    with tempfile.TemporaryFile() as errors:  # a file, so a chatty child never blocks
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(argv)} failed: {message}")
    return elapsed, usage.ru_utime + usage.ru_stime


def compare(
    name: str, ours: list[str], baseline: list[str], env: dict[str, str], runs: int
) -> float:
    for _ in range(2):  # warm the page cache and .pyc files
        _time(ours, env)
        _time(baseline, env)
    mine: list[tuple[float, float]] = []
    base: list[tuple[float, float]] = []
    for _ in range(runs):
        mine.append(_time(ours, env))
        base.append(_time(baseline, env))
    wall_mine = statistics.median(t[0] for t in mine)
    wall_base = statistics.median(t[0] for t in base)
    cpu_ratio = statistics.median(t[1] for t in mine) / statistics.median(t[1] for t in base)
    ratio = wall_mine / wall_base

    def verdict(value: float) -> str:
        return "ok" if value <= TARGET else "MISSED"

    print(
        f"{name:<38} {wall_mine * 1000:6.0f} ms vs {wall_base * 1000:6.0f} ms  "
        f"wall {ratio:4.2f} {verdict(ratio):<6}  CPU {cpu_ratio:4.2f} {verdict(cpu_ratio)}"
    )
    return max(ratio, cpu_ratio)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per side (>= 10)")
    parser.add_argument("--db", type=Path, help="a 10,000-contact database (default: built)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    runs = max(args.runs, 10)

    python = sys.executable
    script = str(Path(python).parent / "smallcrm")
    if not Path(script).exists():
        raise SystemExit(f"{script} not found: install the project into this venv first")
    db_path = args.db
    if db_path is None:
        from make_db import DEFAULT_PATH, build

        db_path = DEFAULT_PATH
        if not db_path.exists():
            print(f"building {db_path} ...", flush=True)
            build(db_path)

    # PYTHONDONTWRITEBYTECODE would make every run compile our modules from source, which an
    # installed smallcrm never does (site-packages, like the baselines' imports, has .pyc files).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SMALLCRM_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(SMALLCRM_USER="bench", NO_COLOR="1", SMALLCRM_DATA_DIR=str(HERE / "data"))
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal_typer.py"
        minimal.write_text(MINIMAL_TYPER)
        floor = Path(tmp) / "floor.py"
        floor.write_text(FLOOR)
        floor_fast_exit = Path(tmp) / "floor_fast_exit.py"
        floor_fast_exit.write_text(FLOOR_FAST_EXIT)
        contact_id = "5000"
        print(f"python {python}; {runs} alternating runs per side, medians; target <= {TARGET}")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
        # (name, smallcrm's command, the floor script's arguments after its path)
        reads = [
            (
                "smallcrm followup list --format json",
                [script, "--db", str(db_path), "followup", "list", "--format", "json"],
                [str(db_path)],
            ),
            (
                f"smallcrm contact show {contact_id}",
                [script, "--db", str(db_path), "contact", "show", contact_id],
                [str(db_path), "--contact-id", contact_id],
            ),
        ]
        ratios = [
            compare(
                "smallcrm --help",
                [script, "--help"],
                [python, str(minimal), "--help"],
                env,
                runs,
            ),
            *(
                compare(name, ours, [python, str(floor), *floor_args], env, runs)
                for name, ours, floor_args in reads
            ),
        ]
        print("\nFor reference, against the floor leaving as smallcrm does (no teardown):")
        for name, ours, floor_args in reads:
            compare(name, ours, [python, str(floor_fast_exit), *floor_args], env, runs)
    missed = [r for r in ratios if r > TARGET]
    print(
        f"\n{'all targets met' if not missed else f'{len(missed)} target(s) missed'} "
        "(a pair passes when both its wall-clock and its CPU-time ratio do)"
    )
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
