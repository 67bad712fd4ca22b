"""`wegweiser`: the command line of the project.

wegweiser run                           run the web chat (and Telegram, with a token)
wegweiser chat [--lang de]              try the dialogue in the terminal
wegweiser flows check                   check the flow files (errors with file:line)
wegweiser flows graph [--format svg]    the dialogue tree: Mermaid, DOT, or a picture (svg, html)
wegweiser flows search --lang ro "..."  what a typed question reaches: ranked screens
wegweiser i18n extract | update         the flow texts into the gettext catalogs in locales/
wegweiser i18n compile | status         compile the catalogs; how complete each language is
wegweiser stats [--month 2026-11]       the anonymous monthly figures (--format md | csv | html)
wegweiser purge --all-expired           delete what has expired now, beyond recovery
wegweiser web qr https://... [--out F]  a printable QR code of the web chat's address (flyers)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import functools
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot.config import (
    Deployment,
    Settings,
    build_engine,
    check_flows_for,
    load_deployment,
    translation_report,
)
from bot.dialogue import Flow, LoadError, load_flow
from bot.dialogue.graph import Translate, to_dot, to_mermaid
from bot.dialogue.loader import shown_path
from bot.i18n.catalogs import SOURCE_LANGUAGE, CatalogError, Catalogs
from bot.i18n.pipeline import compile_catalogs, extract, update
from bot.stats import CountRow, as_csv, as_html, as_markdown, report_tables

DEFAULT_QR_OUTPUT = Path("wegweiser-qr.svg")

EXIT_OK = 0
EXIT_FLOW_ERRORS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_USAGE
    try:
        settings = Settings()
    except ValidationError as error:
        print("The environment settings are not valid:", file=sys.stderr)
        for problem in error.errors():
            name = "WEGWEISER_" + "_".join(map(str, problem["loc"])).upper()
            print(f"  {name}: {problem['msg']}", file=sys.stderr)
        return EXIT_USAGE
    settings = settings.model_copy(
        update={
            "flows": args.flows or settings.flows,
            "config": args.config or settings.config,
            "locales": getattr(args, "locales", None) or settings.locales,
        }
    )
    try:
        deployment = load_deployment(settings.config)
    except LoadError as error:
        print(f"The deployment configuration is not valid:\n{error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args, settings, deployment))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`wegweiser flows graph | head`): stop quietly, as cat does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    defaults = Settings.model_fields
    common.add_argument(
        "--flows",
        type=Path,
        help=f"folder of flow files (default: WEGWEISER_FLOWS or {defaults['flows'].default})",
    )
    common.add_argument(
        "--config",
        type=Path,
        help=f"deployment file (default: WEGWEISER_CONFIG or {defaults['config'].default})",
    )
    common.add_argument(
        "--locales",
        type=Path,
        help="folder of the gettext catalogs (default: WEGWEISER_LOCALES or "
        f"{defaults['locales'].default})",
    )

    parser = argparse.ArgumentParser(prog="wegweiser", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(title="commands")

    run = commands.add_parser(
        "run", parents=[common], help="run the web chat, and the Telegram bot if a token is set"
    )
    run.set_defaults(handler=_run)

    chat = commands.add_parser("chat", parents=[common], help="try the dialogue in the terminal")
    chat.add_argument("--lang", help="language to chat in (skips the language question)")
    chat.set_defaults(handler=_chat)

    flows = commands.add_parser("flows", help="check or draw the flow files")
    flow_commands = flows.add_subparsers(title="flow commands")
    check = flow_commands.add_parser("check", parents=[common], help="check the flow files")
    check.set_defaults(handler=_flows_check)
    graph = flow_commands.add_parser("graph", parents=[common], help="draw the dialogue tree")
    graph.add_argument(
        "--format",
        choices=["mermaid", "dot", "svg", "html"],
        default="mermaid",
        help="mermaid or dot: the tree as text; svg or html: a picture to open in a browser, "
        "drawn by Graphviz (apt-get install graphviz)",
    )
    graph.add_argument("--lang", help="language of the screens' titles (default: the flows' own)")
    graph.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")
    graph.set_defaults(handler=_flows_graph)
    search = flow_commands.add_parser(
        "search", parents=[common], help="what a typed question reaches: the ranked screens"
    )
    search.add_argument("--lang", help="the language the person chose (default: the first)")
    search.add_argument("--limit", type=int, default=10, help="at most this many screens")
    search.add_argument("question", help="the typed text, in quotes")
    search.set_defaults(handler=_flows_search)

    i18n = commands.add_parser("i18n", help="translations: gettext catalogs in locales/")
    i18n_commands = i18n.add_subparsers(title="translation commands")
    for name, handler, text in (
        ("extract", _i18n_extract, "write the template locales/wegweiser.pot from the flows"),
        ("update", _i18n_update, "merge the template into every catalog (changed texts: fuzzy)"),
        ("compile", _i18n_compile, "compile every catalog to .mo (fuzzy entries left out)"),
        (
            "status",
            _i18n_status,
            "per language: translated, fuzzy, missing, reviewed entries, draft",
        ),
    ):
        command = i18n_commands.add_parser(name, parents=[common], help=text)
        command.set_defaults(handler=handler)

    stats = commands.add_parser(
        "stats", parents=[common], help="the anonymous monthly figures, for funders"
    )
    stats.add_argument(
        "--month",
        type=_month,
        help="the month as YYYY-MM (default: the current month, up to today)",
    )
    stats.add_argument(
        "--format",
        choices=["md", "csv", "html"],
        default="md",
        help="md: Markdown tables; csv: for a spreadsheet; html: a page with bars, to print as PDF",
    )
    stats.add_argument(
        "--database", type=Path, help="the SQLite file (default: WEGWEISER_DATABASE)"
    )
    stats.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")
    stats.set_defaults(handler=_stats)

    purge = commands.add_parser(
        "purge",
        parents=[common],
        help="delete expired sessions, cases and return codes now (the bot does it every few "
        "minutes by itself)",
    )
    purge.add_argument(
        "--all-expired", action="store_true", required=True, help="everything past its time"
    )
    purge.add_argument(
        "--database", type=Path, help="the SQLite file (default: WEGWEISER_DATABASE)"
    )
    purge.set_defaults(handler=_purge)

    web = commands.add_parser("web", help="the web chat")
    web_commands = web.add_subparsers(title="web chat commands")
    qr = web_commands.add_parser(
        "qr",
        help="a printable QR code of the web chat's address, for flyers",
        description="Write a QR code of URL for printing: high error correction (a crumpled "
        "flyer still scans), black on white with a quiet zone. Print it at least 2.5 cm wide "
        "and test-scan it with two phones first.",
    )
    qr.add_argument("url", metavar="URL", help="the web chat's public address, https://...")
    qr.add_argument(
        "--out",
        "-o",
        type=Path,
        metavar="FILE",
        default=DEFAULT_QR_OUTPUT,
        help=f"the file to write, .svg, .png or .pdf by its ending (default: {DEFAULT_QR_OUTPUT})",
    )
    # not read by `web qr`, but main() reads them for every command
    qr.set_defaults(handler=_web_qr, flows=None, config=None)
    return parser


def _month(text: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a month: write YYYY-MM") from None


def _checked_flow(settings: Settings, deployment: Deployment) -> Flow | None:
    """The flow if it and its translations pass the check; otherwise the errors are printed and
    None returned."""
    result = check_flows_for(settings.flows, deployment, locales=settings.locales)
    if result.flow is None or result.errors:
        print("The flow files have errors:", file=sys.stderr)
        for problem in result.errors:
            print(f"  {problem}", file=sys.stderr)
        return None
    return result.flow


def _flows_check(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    started = time.perf_counter()
    result = check_flows_for(settings.flows, deployment, locales=settings.locales)
    elapsed = time.perf_counter() - started
    for line in [*map(str, result.problems), *result.notes]:
        print(line)
    nodes = len(result.flow.nodes) if result.flow else 0
    print(
        f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) "
        f"in {nodes} nodes ({elapsed:.2f} s)"
    )
    return EXIT_OK if result.ok else EXIT_FLOW_ERRORS


def _flows_graph(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    if not _offered(args.lang, deployment):
        return EXIT_USAGE
    flow = _checked_flow(settings, deployment)
    if flow is None:
        return EXIT_FLOW_ERRORS
    translate: Translate | None = None
    if args.lang is not None:
        catalogs = Catalogs.load(settings.locales, [args.lang])
        translate = functools.partial(catalogs.translate, args.lang)
    if args.format == "mermaid":
        text = to_mermaid(flow, translate)
    elif args.format == "dot":
        text = to_dot(flow, translate)
    else:
        from bot.dialogue.picture import PictureError, flow_page, render_svg

        try:
            text = render_svg(to_dot(flow, translate))
        except PictureError as error:
            print(error, file=sys.stderr)
            return EXIT_USAGE
        if args.format == "html":
            language = args.lang or SOURCE_LANGUAGE
            text = flow_page(text, language=language, nodes=len(flow.nodes))
    _write(args.output, text)
    return EXIT_OK


def _offered(language: str | None, deployment: Deployment) -> bool:
    """Whether --lang names an offered language (or is not given); if not, says which are."""
    if language is None or language in deployment.languages:
        return True
    offered = ", ".join(deployment.languages)
    print(f"Language '{language}' is not offered; choose one of: {offered}", file=sys.stderr)
    return False


def _write(output: Path | None, text: str) -> None:
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _flows_search(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    language = args.lang or next(iter(deployment.languages))
    if language not in deployment.languages:
        offered = ", ".join(deployment.languages)
        print(f"Language '{language}' is not offered; choose one of: {offered}", file=sys.stderr)
        return EXIT_USAGE
    flow = _checked_flow(settings, deployment)
    if flow is None:
        return EXIT_FLOW_ERRORS
    engine = build_engine(flow, deployment, locales=settings.locales, drafts=True)
    question = args.question
    crisis = engine.crisis.match(question)
    if crisis is not None:
        language_said = crisis.language or "source"
        print(
            f"crisis word '{crisis.written}' ({crisis.group}, {language_said}): the bot shows "
            f"{crisis.node_id} before anything else"
        )
    elif (keyword := engine.keyword_target(question)) is not None:
        print(f"a keyword: the bot jumps to {keyword}")
    hits = engine.search.search(question, language, args.limit)
    if not hits:
        print(f"search ({language}): nothing found")
    rows = [
        (
            hit.node_id,
            engine.search.title(hit.node_id, language),
            f"{hit.score:.2f}",
            "" if hit.language == language else f"(found in {hit.language})",
        )
        for hit in hits
    ]
    widths = [max((len(row[column]) for row in rows), default=0) for column in range(3)]
    for rank, row in enumerate(rows, 1):
        node_id, title, score, found_in = row
        print(
            f"{rank:>2}. {node_id.ljust(widths[0])}  {title.ljust(widths[1])}  "
            f"{score.rjust(widths[2])}  {found_in}".rstrip()
        )
    return EXIT_OK


def _loaded_flow(flows: Path) -> Flow | None:
    """The flow as files, for the translation commands: lint warnings do not stop them."""
    try:
        return load_flow(flows)
    except LoadError as error:
        print(f"The flow files have errors:\n{error}", file=sys.stderr)
        return None


def _i18n_status(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    flow = _loaded_flow(settings.flows)
    if flow is None:
        return EXIT_FLOW_ERRORS
    report = translation_report(flow, deployment, settings.locales)
    header = ("language", "", "texts", "translated", "fuzzy", "missing", "reviewed", "review")
    rows: list[tuple[str, ...]] = [header]
    for status in report.languages:
        offered = "" if status.offered else " (not offered)"
        if status.is_source:
            review = "source language: the texts in flows/"
            counts: tuple[str, ...] = (str(status.total), "–", "–", "–", "–")
        elif status.path is None:
            review = "no catalog"
            counts = (str(status.total), "0", "0", str(status.total), "0")
        else:
            review = status.review_note
            numbers = (status.total, status.translated, status.fuzzy, status.missing)
            counts = tuple(map(str, (*numbers, status.reviewed)))
        rows.append((status.language, status.name + offered, *counts, review))
    columns = len(header) - 1  # the review note is not padded
    widths = [max(len(row[column]) for row in rows) for column in range(columns)]
    for row in rows:
        cells = [
            cell.ljust(width) if column < 2 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row[:columns], widths, strict=True))
        ]
        print("  ".join([*cells, row[columns]]))
    for problem in report.problems:
        print(problem)
    print(f"{len(report.errors)} error(s) in the translations")
    return EXIT_FLOW_ERRORS if report.errors else EXIT_OK


def _i18n_extract(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    flow = _loaded_flow(settings.flows)
    if flow is None:
        return EXIT_FLOW_ERRORS
    path, count, changed = extract(flow, settings.locales)
    print(f"{shown_path(path)}: {count} texts{'' if changed else ' (unchanged)'}")
    return EXIT_OK


def _i18n_update(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    flow = _loaded_flow(settings.flows)
    if flow is None:
        return EXIT_FLOW_ERRORS
    for result in update(flow, settings.locales, deployment.languages):
        said = "created (draft)" if result.created else "updated" if result.changed else "unchanged"
        print(f"{shown_path(result.path)}: {said}")
    return _i18n_status(args, settings, deployment)


def _i18n_compile(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    try:
        written = compile_catalogs(settings.locales)
    except CatalogError as error:
        print(f"A catalog cannot be read:\n  {error}", file=sys.stderr)
        return EXIT_FLOW_ERRORS
    for path in written:
        print(shown_path(path))
    return EXIT_OK


def _stats(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    from bot.store import StoreError  # aiosqlite and cryptography load only when needed

    today = datetime.datetime.now(datetime.UTC).date()
    first = args.month or today.replace(day=1)
    last = _last_day(first)
    if first > today:
        print(
            f"--month {first:%Y-%m} has not begun yet (today is {today}): there are no figures "
            "for it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    database = _database(args, settings)
    if database is None:
        return EXIT_USAGE
    try:
        rows = asyncio.run(_counts(database, first, last))
    except StoreError as error:
        print(f"WEGWEISER_DATABASE: {error}", file=sys.stderr)
        return EXIT_USAGE
    tables = report_tables(rows)
    title = "Wegweiser: anonymous figures"
    period = f"{first:%Y-%m} ({first} to {min(last, today)})"
    if args.format == "csv":
        text = as_csv(tables)
    elif args.format == "html":
        text = as_html(title, period, tables)
    else:
        text = as_markdown(f"{title}, {period}", tables)
    _write(args.output, text)
    return EXIT_OK


def _purge(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    from bot.store import StoreError
    from bot.store.sqlite import SQLiteStore

    database = _database(args, settings)
    if database is None:
        return EXIT_USAGE

    async def purge() -> tuple[int, bool]:
        store = await SQLiteStore.open(database)
        try:
            sessions = await store.purge(datetime.datetime.now(datetime.UTC))
            return sessions, await store.rebuild()
        finally:
            await store.close()

    try:
        sessions, rebuilt = asyncio.run(purge())
    except StoreError as error:
        print(f"WEGWEISER_DATABASE: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"{database}: {sessions} expired session(s) deleted, with expired cases, relayed "
        "message ids and return codes; "
        + (
            "the file holds no copy of them"
            if rebuilt
            else "their stale copies are still in the file (another process read it): run this "
            "again"
        )
    )
    return EXIT_OK


def _database(args: argparse.Namespace, settings: Settings) -> Path | None:
    """The database `stats` and `purge` read: --database, else WEGWEISER_DATABASE; None (and
    the reason printed) if there is no such file: an empty one is never created."""
    database: Path = args.database or settings.database
    if database.is_file():
        return database
    print(
        f"WEGWEISER_DATABASE: no database at {database} (name the bot's file with --database "
        "or WEGWEISER_DATABASE)",
        file=sys.stderr,
    )
    return None


def _web_qr(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    from bot.qr import address_warnings, write_qr  # segno loads only when needed

    try:
        warnings = address_warnings(args.url)
        written = write_qr(args.url, args.out)
    except ValueError as error:  # not an http(s) address, or not .svg, .png, .pdf
        print(f"wegweiser web qr: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"wegweiser web qr: cannot write {args.out}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if written.pixels is not None:
        size = f"{written.pixels} x {written.pixels} pixels"
    else:
        size = f"{written.millimetres:g} mm wide"
    print(f"{written.path.resolve()}: a QR code of {written.url}")
    print(
        f"  version {written.version}, error correction H (about 30 % may be damaged), "
        f"{written.modules} x {written.modules} modules with the quiet zone, {size}; print it "
        "at least 2.5 cm wide with its white border and test-scan it with two phones"
    )
    return EXIT_OK


def _last_day(first: datetime.date) -> datetime.date:
    following = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


async def _counts(database: Path, first: datetime.date, last: datetime.date) -> list[CountRow]:
    from bot.store.sqlite import SQLiteStore

    store = await SQLiteStore.open(database)
    try:
        return await store.counts(first, last)
    finally:
        await store.close()


def _chat(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    if not _offered(args.lang, deployment):
        return EXIT_USAGE
    flow = _checked_flow(settings, deployment)
    if flow is None:
        return EXIT_FLOW_ERRORS
    # a translator tries out their draft here, whether or not the service offers it yet
    engine = build_engine(flow, deployment, locales=settings.locales, drafts=True)
    from bot.runtime import chat_in_terminal

    return asyncio.run(chat_in_terminal(engine, sys.stdin, sys.stdout, args.lang))


def _run(args: argparse.Namespace, settings: Settings, deployment: Deployment) -> int:
    from bot.run import run  # python-telegram-bot and uvicorn load only when needed

    flow = _checked_flow(settings, deployment)
    if flow is None:
        return EXIT_FLOW_ERRORS
    return run(settings, deployment, flow)


if __name__ == "__main__":
    sys.exit(main())
