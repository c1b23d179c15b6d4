"""``serve``, ``publish``, ``apikey``, ``audit``, ``db``, ``settings``: the web face, the published
maps, their keys, the registry's audit and schema."""

from __future__ import annotations

import argparse
import json
import re
import socket
import sys
from pathlib import Path

from ...errors import GeoserviceError
from ...service.core import default_db_path, planned_region_paths
from ...service.registry.store import ROLES, migrate_registry, open_registry, schema_status
from ...service.settings import GROUPS, Settings, get_settings
from ...service.startup import demos_in_background, demos_ready
from ...service.usecases.emergency import load_places
from .common import add_db, add_region, command, open_service, regions_of


@command("serve")
def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from ..api.app import create_app
    from ..api.memory import limit_malloc_arenas
    from ..api.prefork import serve_forked

    if not 0 < args.port < 65536:
        raise GeoserviceError("port", f"must be 1-65535, got {args.port}")
    if not 1 <= args.workers <= 64:
        raise GeoserviceError("workers", f"must be 1-64, got {args.workers}")
    _check_bindable(args.host, args.port)  # before the region load, not after it
    limit_malloc_arenas()  # before loading: what the workers fork from is already compact
    _migrate(_registry_target(args), quiet=True)  # here, once: workers only check the version
    s = get_settings()
    url = f"http://{args.host}:{args.port}/"
    pages = f"{url} (citizen), {url}planner, {url}dispatcher, {url}docs (API), {url}guide/ (manual)"
    if args.workers == 1 and not (regions_of(args) or s.paths.regions) and not demos_ready(s):
        # a first run: answer at once, build and serve the demo regions one by one meanwhile
        registry = open_registry(args.db or s.paths.database_url or default_db_path(planned_region_paths(None, s), s))
        svc, prepare = demos_in_background(s, registry, lambda msg: print(f"geoservice: {msg}", file=sys.stderr))
        print(f"geoservice: listening on {url} while the demo regions are prepared: {pages}", file=sys.stderr)
        prepare.start()
    else:
        if not (regions_of(args) or s.paths.regions) and not demos_ready(s):
            print("geoservice: building the demo regions (first run only, about a minute)", file=sys.stderr)
        svc = open_service(args, create_registry=True)
        for name in svc.regions:  # load and seed every region before answering
            svc.entry(name)
        load_places()  # the emergency numbers' place list, shared by the workers forked from here
        db = svc.registry.location if svc.registry else None
        print(f"geoservice: regions {', '.join(svc.regions)}; registry {db}; ready: {pages}", file=sys.stderr)
    if args.workers > 1:
        serve_forked(
            svc,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=args.log_level,
            access_log=not args.no_access_log,
            worker_timeout_s=svc.settings.server.request_timeout_s,
        )
        return
    uvicorn.run(
        create_app(svc),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        proxy_headers=False,  # X-Forwarded-For only from trusted_proxies (admission.ClientAddress)
    )


def _check_bindable(host: str, port: int) -> None:
    """The address can be listened on (as the server will: SO_REUSEADDR), else a one-line error."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise GeoserviceError("host", f"cannot resolve {host!r}: {e.strerror}") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            raise GeoserviceError("port", f"cannot listen on {host}:{port}: {e.strerror}") from None


@command("publish")
def cmd_publish(args: argparse.Namespace) -> None:
    from ...service.usecases import plans
    from ..maps.publish import publish

    rates = plans.read_rates(args.thrombolysis_rates) if args.thrombolysis_rates else None
    svc = open_service(args)
    out = Path(args.out)
    if rates and not any(plans.thrombolysis_tiers(svc, rates, region=e.name, require=False)[1] for e in svc.entries()):
        plans.thrombolysis_tiers(svc, rates)  # the error naming the first region's units
    for entry in svc.entries():
        target = out if len(svc.regions) == 1 else out / entry.name
        for w in publish(svc, entry.name, target, png=not args.no_png, lang=args.lang, thrombolysis_rates=rates):
            print(f"wrote {w}", file=sys.stderr)


def _registry_target(args: argparse.Namespace) -> str | Path:
    """The registry a command works on: ``--db``, else GEOSERVICE_DATABASE_URL, else the one
    ``serve`` uses (GEOSERVICE_DB_PATH, else beside the first bundle)."""
    s = get_settings()
    return args.db or s.paths.database_url or default_db_path(planned_region_paths(regions_of(args), s), s)


def _shown(target: str | Path) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", str(target))  # never print a password


def _migrate(target: str | Path, *, quiet: bool = False) -> None:
    location, before, applied, now = migrate_registry(target)
    if applied:
        was = "no registry" if before is None else f"schema version {before}"
        print(f"geoservice: registry {location}: {was} -> {now} (applied: {'; '.join(applied)})", file=sys.stderr)
    elif not quiet:
        print(f"geoservice: registry {location}: schema version {now}, nothing to migrate", file=sys.stderr)


@command("db")
def cmd_db(args: argparse.Namespace) -> None:
    """``db migrate``: apply the registry's pending schema migrations; ``db status``: its version."""
    target = _registry_target(args)
    if args.db_cmd == "migrate":
        _migrate(target)
        return
    location, version, current, todo = schema_status(target)
    if version is None:
        raise GeoserviceError("db", f"no registry at {_shown(location)}")
    print(f"{version}\t{current}")
    if todo:
        raise GeoserviceError(
            "db",
            f"the registry {location} is at schema version {version}, this geoservice needs {current} "
            f"(pending: {'; '.join(todo)}): run 'geoservice db migrate'",
        )
    print(f"geoservice: registry {location}: schema version {version}, current", file=sys.stderr)


@command("apikey")
def cmd_apikey(args: argparse.Namespace) -> None:
    reg = open_registry(_registry_target(args))
    assert reg is not None
    db = reg.location
    try:
        if args.apikey_cmd in ("create", "rotate"):
            if args.apikey_cmd == "create":
                key, token = reg.create_key(args.name, args.role, expires_days=args.expires_days)
            else:
                key, token = reg.rotate_key(args.name, expires_days=args.expires_days)
            until = f", expires {key.expires_at}" if key.expires_at else ""
            print(f"{args.apikey_cmd}d key {key.name!r} (role {key.role}{until}) in {db}", file=sys.stderr)
            print("store this key now; it is not shown again:", file=sys.stderr)
            print(token)
        elif args.apikey_cmd == "list":
            for k in reg.list_keys():
                state = "revoked " + k.revoked_at if k.revoked_at else "active"
                if k.expires_at and not k.revoked_at:
                    state += f" until {k.expires_at}"
                print(f"{k.id}\t{k.name}\t{k.role}\t{k.created_at}\t{state}")
        elif args.apikey_cmd == "revoke":
            if not reg.revoke_key(args.name):
                raise GeoserviceError("name", f"no active key named {args.name!r}")
            print(f"revoked key {args.name!r}", file=sys.stderr)
    finally:
        reg.close()


@command("audit")
def cmd_audit(args: argparse.Namespace) -> None:
    """``audit verify``: recompute the audit log's hash chain and check the facilities against it;
    ``audit head``: print the chain's last hash."""
    db = _registry_target(args)
    reg = open_registry(db, create=False)
    if reg is None:
        raise GeoserviceError("db", f"no registry at {_shown(db)}")
    location = reg.location
    try:
        if args.audit_cmd == "head":
            print(reg.audit_head())
            return
        expect = args.expect
        if expect is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", expect.strip()):
            raise GeoserviceError(
                "expect", f"must be a hash printed by 'geoservice audit head' (64 hex digits); got {expect[:70]!r}"
            )
        check = reg.verify_audit(expect=expect)
    finally:
        reg.close()
    problem = check.problem(location)
    if problem is not None:
        raise GeoserviceError(None, problem)
    held = ""
    if check.expected_at is not None:
        held = f"; holds the expected hash, {check.after_expected} rows and seeds after it"
    if check.unchained:
        held += f"; {check.unchained} earlier rows from before the hash chain, unhashed"
    print(
        f"audit log of {location}: {check.rows} rows, hash chain intact ({check.seeds} region seeds){held}; "
        f"every facility ({check.facilities}) equals the after of its last audit row or its seed; "
        f"last hash {check.last_hash}",
        file=sys.stderr,
    )


@command("settings")
def cmd_settings(args: argparse.Namespace) -> None:
    """Print the settings in force (from GEOSERVICE_* and .env), group by group, with what each one does."""
    s = get_settings()
    for i, (group, cls) in enumerate(GROUPS.items()):
        print(("\n" if i else "") + f"# settings.{group}: {Settings.model_fields[group].description}")
        for name, f in cls.model_fields.items():
            value = getattr(getattr(s, group), name)
            print(f"GEOSERVICE_{name.upper()}={json.dumps(value, default=str)}\t# {f.description}")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="HTTP API, citizen page (/) and planner page (/planner)")
    add_region(p)
    add_db(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument("--no-access-log", action="store_true")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes forked after the regions are loaded, so they share them (edits reach all)",
    )

    p = sub.add_parser("publish", help="self-contained HTML maps (chest pain, stroke) and print PNGs")
    add_region(p)
    add_db(p)
    p.add_argument("--out", default="maps", help="folder (one subfolder per region when there are several)")
    p.add_argument("--no-png", action="store_true", help="skip the print PNGs")
    p.add_argument(
        "--lang",
        default="zh",
        choices=("zh", "en"),
        help="language of every string on the maps (title, legend, popups, notice, attribution, scale); "
        "default zh, the language of the health commissions the maps are for; road and place names "
        "use OSM's name:zh / name:en when present, else the name as mapped",
    )
    p.add_argument(
        "--thrombolysis-rates",
        metavar="CSV",
        help="stroke quality tiers on the stroke map: CSV name and/or admin_code, thrombolysis_rate_pct[, demo, note]",
    )

    p = sub.add_parser("apikey", help="API keys for editing the facility registry")
    ks = p.add_subparsers(dest="apikey_cmd", required=True)
    for name in ("create", "rotate", "list", "revoke"):
        q = ks.add_parser(name)
        add_db(q)
        add_region(q)
        q.add_argument("--name", required=name != "list", help="who holds the key (1-64 of A-Z a-z 0-9 _.@-)")
        if name == "create":
            q.add_argument("--role", default="editor", choices=ROLES)
        if name in ("create", "rotate"):
            q.add_argument("--expires-days", type=float, help="the key stops working after this many days")

    p = sub.add_parser("audit", help="check the registry's audit log")
    au = p.add_subparsers(dest="audit_cmd", required=True)
    q = au.add_parser(
        "verify",
        help="recompute the audit log's hash chain and check every facility against it (exit 2 if not)",
        description="Recompute the hash chain of the audit log and the region seeds, then check that every "
        "facility record equals the after of its last audit row (or, never edited, its seeded record): "
        "a row changed or removed, or a facility edited, added or deleted behind the registry's back, is "
        "named and the exit status is 2. Rows cut off the end are found only with --expect.",
    )
    add_db(q)
    add_region(q)
    q.add_argument(
        "--expect",
        metavar="HASH",
        help="a hash printed earlier by 'geoservice audit head' (keep one with each backup): fail unless the "
        "chain still holds it, i.e. no row recorded up to then was cut off or rewritten",
    )
    q = au.add_parser("head", help="print the audit chain's last hash (record it; check with verify --expect)")
    add_db(q)
    add_region(q)

    p = sub.add_parser(
        "db",
        help="the registry's schema: migrate it to this version of geoservice, or show its version",
        description="The registry's schema is versioned. 'db migrate' applies the pending migrations, one "
        "process at a time (a PostgreSQL advisory lock, SQLite's write lock; an edit in flight is waited "
        "for); 'serve' runs it before it forks its workers. Workers and read-only commands never change "
        "the schema: on a registry behind this version of geoservice they stop with an error naming "
        "'geoservice db migrate'. A registry created before versions is adopted as it is.",
    )
    dbs = p.add_subparsers(dest="db_cmd", required=True)
    q = dbs.add_parser("migrate", help="apply the pending schema migrations (creates the registry when there is none)")
    add_db(q)
    add_region(q)
    q = dbs.add_parser(
        "status",
        help="print the registry's schema version and this geoservice's (tab-separated); exit 2 when behind",
    )
    add_db(q)
    add_region(q)

    sub.add_parser("settings", help="print the settings in force (GEOSERVICE_* variables, .env)")
