"""Command line: ``python -m pipeline [run|plan|fetch|analyze|figures|score|demo|serve-s2]``.

The subcommands come from the stage registry (:data:`pipeline.stages.COMMANDS`); a stage's options and runner
are imported only for the command given, so ``--help`` stays fast. A :class:`UserError` becomes one line on
stderr and exit status 2; anything else is a bug and keeps its traceback.

Before a stage runs, everything it was given is checked, so a bad input stops it before it writes anything:
every option (ranges from :mod:`pipeline.validate`, applied while parsing; a parse error is one line too), the
config, ``--api-url``, ``--out`` (a writable directory) and the run's manifest (readable, well-typed). The
stage then runs holding the lock of its run directory (:mod:`pipeline.lock`): two commands on one ``--out``
take turns instead of overwriting each other.
"""

from __future__ import annotations

import argparse
import errno
import gc
import logging
import sys
from pathlib import Path

from pipeline.config import load_config
from pipeline.context import REAL_API_URL, Context, api_base_url
from pipeline.errors import UserError
from pipeline.lock import run_lock
from pipeline.paths import REPO_ROOT, RunPaths
from pipeline.manifest import read_sections, sign_manifest
from pipeline.stages import COMMANDS, resolve
from pipeline.validate import guard_plain_numbers

log = logging.getLogger("pipeline")

DEFAULT_CONFIG = REPO_ROOT / "data" / "study.toml"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: <command>: <what> (see <command> --help)``), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def _common_options(*, suppress_defaults: bool) -> argparse.ArgumentParser:
    """The options every command takes. Given again after a subcommand, they must not reset (with their
    defaults) what was given before it, hence ``suppress_defaults`` for the subcommands' copy."""
    def default(value):
        return argparse.SUPPRESS if suppress_defaults else value

    common = _Parser(add_help=False)
    common.add_argument("--config", type=Path, default=default(None),
                        help="study config (default: data/study.toml; demo: data/demo.toml)")
    common.add_argument("--api-url", default=default(REAL_API_URL),
                        help=f"Semantic Scholar API base URL (default: {REAL_API_URL})")
    common.add_argument("--out", type=Path, default=default(None),
                        help="root for everything the run writes: store, tables, figures, report, manifest "
                             "(default: the repository's data/ and figures/)")
    noise = common.add_mutually_exclusive_group()
    noise.add_argument("-q", "--quiet", action="store_true", default=default(False), help="no progress bars, warnings only")
    noise.add_argument("-v", "--verbose", action="store_true", default=default(False), help="debug logging and tracebacks")
    return common


_ENVIRONMENT_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}
"""OSErrors that are the machine's state, not a bug (a full disk, a read-only mount, permissions): one line."""

_VALUED_OPTIONS = {"--config", "--api-url", "--out"}


def command_in(argv: list[str]) -> str | None:
    """The subcommand named in ``argv``: its first word that is not an option or an option's value."""
    words = iter(argv)
    for word in words:
        if word in _VALUED_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command``, only that subcommand's own options are added (its options module imported),
    so ``--help`` and light commands do not pay for every stage's imports."""
    parser = _Parser(
        prog="python -m pipeline",
        description="Rerun the reward-models-vs-metrics cross-citation study end to end "
                    "(with no command: run). See README.md.",
        parents=[_common_options(suppress_defaults=False)],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common_options(suppress_defaults=True)
    for name, stage in COMMANDS.items():
        subparser = sub.add_parser(name, parents=[common], help=stage.help, description=stage.help)
        if stage.options and command in (None, name):
            resolve(stage.options)(subparser)
    guard_plain_numbers(parser)
    return parser


def _configure_logging(*, quiet: bool, verbose: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # httpx/httpcore (and the semanticscholar client, if a notebook uses it) log request headers, the API key
    # among them, at DEBUG: keep them above DEBUG whatever -v says.
    for noisy in ("semanticscholar", "httpx", "httpcore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def make_context(args: argparse.Namespace, *, needs_config: bool = True) -> Context:
    """The run context from parsed common options."""
    paths = RunPaths.under(args.out) if args.out else RunPaths.default()
    config = load_config(args.config or DEFAULT_CONFIG) if needs_config else None
    return Context(config=config, paths=paths, api_url=api_base_url(args.api_url), quiet=args.quiet)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = command_in(argv)
    if command is None and not {"-h", "--help"} & set(argv):
        command = "run"
    try:
        args = build_parser(command or "").parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad option (2, one line already printed)
        return exc.code
    _configure_logging(quiet=args.quiet, verbose=args.verbose)
    args.command = args.command or "run"
    stage = COMMANDS[args.command]
    try:
        ctx = make_context(args, needs_config=stage.needs_config)
        if stage.locks:
            ctx.paths.check_writable()
            with run_lock(ctx.paths.lock, directory=ctx.paths.data):
                read_sections(ctx.paths.manifest)  # a damaged manifest stops the stage before it writes
                resolve(stage.run)(ctx, args)
                if stage.signs:
                    sign_manifest(ctx.paths.manifest)
        else:
            resolve(stage.run)(ctx, args)
    except UserError as exc:
        if args.verbose:
            log.exception("user error")
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in _ENVIRONMENT_ERRORS:
            raise
        if args.verbose:
            log.exception("cannot write")
        print(f"error: {exc.filename or 'a file'}: {exc.strerror}; free space or pass --out a writable directory "
              "(everything fetched so far is in the store)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: everything fetched so far is in the store; rerun to resume", file=sys.stderr)
        return 130
    return 0


def entry() -> None:
    """The command line (``python -m pipeline``, ``trenchcoat``): :func:`main`, then exit without the garbage
    collector's passes over everything the process still holds while the interpreter shuts down (every output is
    written and closed by then; reference counting still frees what it frees). A score run holds a million objects:
    those passes took 0.1–0.15 s of its 1.2 s."""
    code = main()
    gc.disable()
    sys.exit(code)
