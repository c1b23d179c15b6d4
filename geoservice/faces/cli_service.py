"""CLI commands of the web face: ``serve``, ``publish``, ``apikey``."""

from __future__ import annotations

import sys
from pathlib import Path

from geoservice.faces.cli import _EXTRA_PARSERS, CLIError, command, region_paths as _region_paths


def _db_path(args, paths: list[Path]) -> Path:
    from ..settings import get_settings

    if getattr(args, "db", None):
        return Path(args.db)
    s = get_settings()
    return Path(s.db_path) if s.db_path else paths[0].parent / "registry.sqlite"


@command("serve")
def cmd_serve(args) -> None:
    import uvicorn

    from ..settings import get_settings
    from .api.app import create_app
    from .api.state import AppState

    if not 0 < args.port < 65536:
        raise CLIError(f"--port must be 1-65535, got {args.port}")
    if not 1 <= args.workers <= 64:
        raise CLIError(f"--workers must be 1-64, got {args.workers}")
    s = get_settings()
    paths = _region_paths(args.region)
    db = _db_path(args, paths)
    if args.workers > 1:
        # each worker process builds its own state from the environment; edits reach the other
        # workers through the registry's version counter (checked on every request)
        import json
        import os
        os.environ["GEOSERVICE_REGIONS"] = json.dumps([str(Path(p).resolve()) for p in paths])
        os.environ["GEOSERVICE_DB_PATH"] = str(Path(db).resolve())
        AppState.from_paths(paths, db)  # seed the registry once, before the workers start
        print(f"geoservice: {args.workers} workers; regions {', '.join(str(p) for p in paths)}; registry {db}; "
              f"http://{args.host}:{args.port}/ (citizen), /planner, /docs", file=sys.stderr)
        uvicorn.run("geoservice.faces.api.app:create_app", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level, access_log=not args.no_access_log)
        return
    state = AppState.from_paths(paths, db, max_snap_m={"drive": s.max_snap_drive_m, "walk": s.max_snap_walk_m},
                                basemap_tiles=s.basemap_tiles, basemap_gcj02=s.basemap_gcj02)
    print(f"geoservice: regions {', '.join(state.regions)}; registry {db}; "
          f"http://{args.host}:{args.port}/ (citizen), /planner, /docs", file=sys.stderr)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level=args.log_level,
                access_log=not args.no_access_log)


@command("publish")
def cmd_publish(args) -> None:
    from .maps.publish import publish

    paths = _region_paths([args.region] if args.region else None)
    out = Path(args.out)
    db = _db_path(args, paths)
    for p in paths:
        written = publish(p, out if args.region else out / p.name, png=not args.no_png, db=db)
        for w in written:
            print(f"wrote {w}", file=sys.stderr)


@command("apikey")
def cmd_apikey(args) -> None:
    from .api.registry import Registry, RegistryError

    db = _db_path(args, _region_paths(args.region) if args.region or not args.db else [])
    reg = Registry(db)
    try:
        if args.apikey_cmd == "create":
            key, token = reg.create_key(args.name, args.role)
            print(f"created key {key.name!r} (role {key.role}) in {db}", file=sys.stderr)
            print("store this key now; it is not shown again:", file=sys.stderr)
            print(token)
        elif args.apikey_cmd == "list":
            for k in reg.list_keys():
                print(f"{k.id}\t{k.name}\t{k.role}\t{k.created_at}\t{'revoked ' + k.revoked_at if k.revoked_at else 'active'}")
        elif args.apikey_cmd == "revoke":
            if not reg.revoke_key(args.name):
                raise CLIError(f"no active key named {args.name!r}")
            print(f"revoked key {args.name!r}", file=sys.stderr)
    except RegistryError as exc:
        raise CLIError(f"--{exc}") from None
    finally:
        reg.close()


def add_parsers(sub) -> None:
    p = sub.add_parser("serve", help="HTTP API, citizen page (/) and planner page (/planner)")
    p.add_argument("--region", action="append", help="region bundle directory; repeatable (default: demo regions)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--db", help="registry SQLite file (default: GEOSERVICE_DB_PATH or registry.sqlite beside the bundles)")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument("--no-access-log", action="store_true")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (edits reach all of them)")

    p = sub.add_parser("publish", help="self-contained HTML maps (chest pain, stroke) and print PNGs")
    p.add_argument("--region", help="region bundle directory (default: each demo region in a subfolder)")
    p.add_argument("--out", default="maps")
    p.add_argument("--no-png", action="store_true", help="skip the print PNGs")
    p.add_argument("--db", help="registry SQLite file whose facilities (with edits) to draw, when it holds the region")

    p = sub.add_parser("apikey", help="API keys for editing the facility registry")
    ks = p.add_subparsers(dest="apikey_cmd", required=True)
    for name in ("create", "list", "revoke"):
        q = ks.add_parser(name)
        q.add_argument("--db", help="registry SQLite file (default as for serve)")
        q.add_argument("--region", action="append", help="bundles served (to find the default registry)")
        if name == "create":
            q.add_argument("--name", required=True, help="who holds the key")
            q.add_argument("--role", default="editor", choices=("viewer", "editor", "admin"))
        if name == "revoke":
            q.add_argument("--name", required=True)


_EXTRA_PARSERS.append(add_parsers)
