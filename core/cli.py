"""Command-line options generated from the settings dataclasses, so each setting is declared once (core.config).

    add_settings_options(parser, settings.model)      # one option per field: --image-size, --seed, ...
    settings.model = settings_from_options(args, settings.model)

A field's type comes from its default (bool gives --flag/--no-flag); its help, choices and option name
from `core.config.setting`'s metadata. Options default to None, so only what the user typed overrides
the settings object (whose values the help text shows).
"""

from __future__ import annotations

import argparse
import dataclasses


def value_type(field: dataclasses.Field, kind: type):
    """The argparse type of a field: its Python type, bounded by `minimum`/`above`, and never a blank text."""
    minimum, above = field.metadata.get("minimum"), field.metadata.get("above")

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if kind is str and not value.strip():
            raise argparse.ArgumentTypeError(f"an empty {field.name.replace('_', ' ')}; {field.metadata.get('help')}")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"{text} is negative" if minimum == 0 else f"{value} is below {minimum}")
        if above is not None and value <= above:
            raise argparse.ArgumentTypeError(f"{text} is not above {above:g}")
        return value.strip() if kind is str else value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _dest(instance, name: str) -> str:
    return f"{type(instance).__name__}.{name}"


def option_name(field: dataclasses.Field) -> str:
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def cli_fields(instance, command: str | None = None) -> list[dataclasses.Field]:
    """The fields shown on the command line; with `command`, those of that subcommand (metadata "command")."""
    return [f for f in dataclasses.fields(instance) if f.metadata.get("cli", True)
            and (command is None or f.metadata.get("command") in (None, command))]


def add_settings_options(parser: argparse.ArgumentParser, instance, command: str | None = None) -> argparse.ArgumentParser:
    """One option per command-line field of the settings dataclass `instance`, its value the default shown."""
    group = parser.add_argument_group(f"{type(instance).__name__} (core/config.py)")
    for field in cli_fields(instance, command):
        default = getattr(instance, field.name)
        help_text = f"{field.metadata.get('help') or field.name.replace('_', ' ')} (default: {default})"
        kwargs = {"dest": _dest(instance, field.name), "default": None, "help": help_text.replace("%", "%%")}
        if isinstance(default, bool):
            kwargs["action"] = argparse.BooleanOptionalAction
        elif isinstance(default, tuple):
            item = type(default[0]) if default else str
            kwargs.update(type=lambda text, item=item: tuple(item(part) for part in text.split(",") if part.strip()),
                          metavar="A,B,...")
        else:
            kwargs["type"] = value_type(field, type(default))
            if field.metadata.get("choices"):
                kwargs["choices"] = field.metadata["choices"]
            else:
                kwargs["metavar"] = type(default).__name__.upper()  # INT, FLOAT, STR
        group.add_argument(option_name(field), **kwargs)
    return parser


def settings_from_options(args: argparse.Namespace, instance):
    """`instance` with every option the user gave applied."""
    given = {f.name: value for f in cli_fields(instance)
             if (value := getattr(args, _dest(instance, f.name), None)) is not None}
    return dataclasses.replace(instance, **given)
