"""Command-line options come from the settings dataclasses: a new field is a new option, with no other edit."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from core.cli import add_settings_options, option_name, settings_from_options
from core.config import ModelSettings, get_settings, setting


def _train_parser(settings) -> argparse.ArgumentParser:
    from model.__main__ import _parser

    commands = next(a for a in _parser(settings)._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["train"]


def test_a_new_model_setting_appears_in_the_train_command():
    extended = dataclasses.make_dataclass(
        "ExtendedModelSettings", [("attention_temperature", float, setting(1.0, "softmax temperature"))],
        bases=(ModelSettings,), frozen=True)
    settings = get_settings().replace(model=extended())
    parser = _train_parser(settings)
    assert "--attention-temperature" in parser.format_help()
    args = parser.parse_args(["--variant", "raw", "--data", "d", "--attention-temperature", "0.5", "--epochs", "3"])
    model = settings_from_options(args, settings.model)
    assert (model.attention_temperature, model.epochs, model.image_size) == (0.5, 3, 224)


def test_every_command_line_field_of_model_settings_is_an_option():
    help_text = _train_parser(get_settings()).format_help()
    for field in dataclasses.fields(ModelSettings):
        assert (option_name(field) in help_text) == field.metadata["cli"], field.name


def test_types_choices_and_booleans_follow_the_field():
    parser = add_settings_options(argparse.ArgumentParser(), ModelSettings())
    args = parser.parse_args(["--no-feature-flip", "--learning-rate", "0.01", "--cache-dtype", "float16"])
    model = settings_from_options(args, ModelSettings(feature_flip=True))
    assert (model.feature_flip, model.learning_rate, model.feature_cache_dtype) == (False, 0.01, "float16")
    with pytest.raises(SystemExit):
        parser.parse_args(["--preprocess", "sepia"])
    assert settings_from_options(parser.parse_args([]), ModelSettings()) == ModelSettings()  # nothing typed, nothing changed


def test_profiles_are_overrides_of_the_settings():
    from core.config import PROFILES, profile_settings

    demo = profile_settings("demo")
    assert (demo.model.image_size, demo.model.epochs, demo.model.batch_size) == (96, 20, 64)
    assert profile_settings("thesis").model == ModelSettings(architecture="thesis")  # chapter 3: the defaults
    assert set(PROFILES) == {"demo", "thesis"}
    with pytest.raises(ValueError, match="unknown settings section"):
        demo.with_overrides({"modle": {"epochs": 1}})
