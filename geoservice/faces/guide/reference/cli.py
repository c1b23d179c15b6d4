"""The CLI reference page: every command, sub-command, argument and option of the parser."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from .text import cell, code, esc, generated_note

# ---------------------------------------------------------------------------------------------- CLI
CLI_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "命令行参考",
        "intro": "`geoservice` 的每个命令、子命令与选项。全局选项 `-v/--verbose` 放在命令名之前"
        "（`geoservice -v build …`）打印进度。出错时打印一行 `geoservice: error: --选项: …`，退出状态 2。",
        "usage": "用法",
        "default": "默认值",
        "choices": "可选值",
        "required": "必填",
        "repeat": "可重复给出",
        "flag": "开关（不带值）",
        "positional": "位置参数",
        "exclusive": "互斥：只能给出其中一个",
        "subcommands": "子命令",
        "commands": "命令一览",
        "command": "命令",
        "what": "作用",
    },
    "en": {
        "title": "Command line reference",
        "intro": "Every command, sub-command and option of `geoservice`. The global option `-v/--verbose` goes "
        "before the command (`geoservice -v build …`) and logs progress. A user error prints one line "
        "`geoservice: error: --flag: …` and exits with status 2.",
        "usage": "Usage",
        "default": "Default",
        "choices": "Choices",
        "required": "required",
        "repeat": "may be given more than once",
        "flag": "a switch (takes no value)",
        "positional": "positional argument",
        "exclusive": "mutually exclusive: give at most one of",
        "subcommands": "Sub-commands",
        "commands": "The commands",
        "command": "command",
        "what": "what it does",
    },
}


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser] | None:
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            return a
    return None


def _usage(parser: argparse.ArgumentParser) -> str:
    fmt = argparse.HelpFormatter(parser.prog, width=96, max_help_position=40)
    fmt.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return fmt.format_help().strip().removeprefix("usage: ")


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    fmt = argparse.HelpFormatter(parser.prog)
    return fmt._expand_help(action)


def anchor(*parts: str) -> str:
    text = "-".join(parts)
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower()


def option_anchor(command: str, option: str) -> str:
    """The id of an option's entry on the CLI page: ``build--admin-units``; nested commands are
    joined by ``-`` (``apikey-create--role``); a positional argument ``import-layer-file``."""
    cmd = command.replace(" ", "-").lower()
    if option.startswith("--"):
        return cmd + re.sub(r"[^A-Za-z0-9_-]+", "-", option.lower())
    return anchor(cmd, option.lstrip("-"))


def _default_text(action: argparse.Action) -> str | None:
    d = action.default
    if (
        d is None
        or d is argparse.SUPPRESS
        or isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction)
    ):
        return None
    if isinstance(d, list | tuple) and not d:
        return None
    if isinstance(d, Path):
        d = str(d)
    return str(d)


def _cli_command(
    lines: list[str], parser: argparse.ArgumentParser, name: str, help_: str, lang: str, depth: int
) -> None:
    t = CLI_TEXT[lang]
    h = "#" * depth
    lines += [f"{h} `geoservice {name}` {{ #{anchor(name.replace(' ', '-'))} }}", ""]
    if help_:
        lines += [esc(help_), ""]
    if parser.description and parser.description != help_:
        lines += [esc(parser.description), ""]
    lines += [f"**{t['usage']}**", "", "```text", _usage(parser), "```", ""]
    groups = {id(a): g for g in parser._mutually_exclusive_groups for a in g._group_actions}
    sub = _subparsers(parser)
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or action is sub:
            continue
        if action.option_strings:
            label = ", ".join(action.option_strings)
            key = max(action.option_strings, key=len)
        else:
            label = str(action.metavar or action.dest).upper() if action.metavar is None else str(action.metavar)
            key = str(action.dest)
        meta = action.metavar
        if action.option_strings and action.nargs != 0:
            if meta is None:
                meta = action.dest.upper()
            label_full = f"{label} {meta if isinstance(meta, str) else ' '.join(meta)}"
        else:
            label_full = label
        lines += [
            f"{h}# `{label_full}` {{ #{option_anchor(name, key)} data-toc-label='{label.split(', ')[-1]}' }}",
            "",
        ]
        body = _help(parser, action)
        if body:
            lines += [esc(body), ""]
        facts = []
        if not action.option_strings:
            facts.append(t["positional"])
        if action.required and action.option_strings:
            facts.append(f"**{t['required']}**")
        if action.nargs == 0:
            facts.append(t["flag"])
        if isinstance(action, argparse._AppendAction | argparse._ExtendAction) or action.nargs in ("+", "*"):
            facts.append(t["repeat"])
        if action.choices:
            facts.append(f"{t['choices']}: " + ", ".join(code(c) for c in action.choices))
        d = _default_text(action)
        if d is not None:
            facts.append(f"{t['default']}: {code(d)}")
        g = groups.get(id(action))
        if g is not None:
            others = [max(a.option_strings, key=len) for a in g._group_actions if a is not action and a.option_strings]
            if others:
                facts.append(f"{t['exclusive']} " + ", ".join(code(o) for o in others))
        for f in facts:
            lines.append(f"- {f}")
        if facts:
            lines.append("")
    if sub is not None:
        helps = {ca.dest: ca.help or "" for ca in sub._choices_actions}
        lines += [f"**{t['subcommands']}**: " + ", ".join(f"`{n}`" for n in sub.choices), ""]
        for sname, sp in sub.choices.items():
            _cli_command(lines, sp, f"{name} {sname}", helps.get(sname, ""), lang, depth)


def cli_page(lang: str) -> str:
    from ...cli import build_parser

    t = CLI_TEXT[lang]
    parser = build_parser()
    sub = _subparsers(parser)
    assert sub is not None
    helps = {ca.dest: ca.help or "" for ca in sub._choices_actions}
    # the options' own page comes first when an option is searched for (`--admin-units`)
    lines = ["---", "search:", "  boost: 3", "---", ""]
    lines += [f"# {t['title']}", "", generated_note(lang, "`geoservice.faces.cli.build_parser()`"), t["intro"], ""]
    lines += [f"## {t['commands']}", "", f"| {t['command']} | {t['what']} |", "|---|---|"]
    for name in sub.choices:
        lines.append(f"| [`{name}`](#{anchor(name)}) | {cell(helps.get(name, ''))} |")
    lines.append("")
    for name, sp in sub.choices.items():
        _cli_command(lines, sp, name, helps.get(name, ""), lang, 2)
    return "\n".join(lines) + "\n"
