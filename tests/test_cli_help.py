"""The ``gridmap`` command's help comes from the catalogues (gridmap/cli_help.py): Chinese
under a Chinese locale, exactly click's English rendering otherwise."""
from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gridmap import cli_help
from gridmap.cli import cli
from gridmap.i18n import translate, use_locale

PLAIN = {cli_help.Group: click.Group, cli_help.Command: click.Command,
         cli_help.Option: click.Option, cli_help.Argument: click.Argument}


def _paths(cmd, path=()):
    yield list(path)
    for name in sorted(getattr(cmd, "commands", {})):
        yield from _paths(cmd.commands[name], (*path, name))


def _help(args, lang):
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    # The installed script, as a person runs it, in 80 columns (click leaves 2 free).
    done = subprocess.run([str(Path(sys.executable).parent / "gridmap"), *args, "--help"],
                          env={**env, "LANG": lang, "COLUMNS": "80"}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _usage_error(args, lang, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    done = subprocess.run([str(Path(sys.executable).parent / "gridmap"), *args],
                          env={**env, "LANG": lang, **extra}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    return done.stderr.strip()


def _plain(root):
    """A copy of ``root`` made of click's own classes with the English texts as written."""
    twin = copy.deepcopy(root)
    for cmd in cli_help.walk(twin):
        for node in (cmd, *cmd.params):
            english = {k: getattr(node, f"_english_{k}", None) for k in ("help", "short_help")
                       if hasattr(type(node), k) and isinstance(getattr(type(node), k),
                                                                property)}
            node.__class__ = PLAIN[type(node)]
            node.__dict__.update(english)
    return twin


def test_every_command_and_parameter_reads_its_help_from_the_catalogue():
    """A command or option made with plain click (``@click.option``) would be English only."""
    for cmd in cli_help.walk(cli):
        assert type(cmd) in (cli_help.Command, cli_help.Group), cmd.name
        for param in cmd.params:
            if param.name != "help":  # click's own --help: its text is a click message
                assert type(param) in (cli_help.Option, cli_help.Argument), (cmd.name, param)


def test_help_texts_are_extracted_where_they_are_written():
    found = {text: path for text, path, _ in cli_help.help_messages(cli)}
    assert found["PostGIS URL (default: $DATABASE_URL or the local gridmap database)."] == \
        "gridmap/cli.py"
    assert found["District code the features belong to."] == "gridmap/commands/data.py"
    assert any(text.startswith("Import a recipe from import/") for text in found)


def test_help_in_chinese():
    top = _help([], "zh_CN.UTF-8")
    assert "gridmap — 社区网格化管理。" in top
    assert "校验层级关系" in top and "网格编码。" in top
    imported = _help(["import"], "zh_CN.UTF-8")
    assert "要素所属的区代码。" in imported
    assert "District code the features belong to." not in imported


def test_clicks_own_messages_in_chinese():
    """Headings, click's --help and usage errors come from the catalogue too."""
    top = _help([], "zh_CN.UTF-8")
    assert top.startswith("用法: gridmap [OPTIONS] COMMAND [ARGS]...")
    assert "选项:" in top and "命令:" in top and "显示本帮助并退出。" in top
    assert _usage_error(["nosuch"], "zh_CN.UTF-8") == \
        "gridmap：没有命令 'nosuch'。（见 gridmap --help）"
    assert "缺少参数 'SOURCE'" in _usage_error(["import"], "zh_CN.UTF-8")


@pytest.mark.parametrize("extra", [{}, {"LANGUAGE": "zh_CN"}])
def test_clicks_own_messages_stay_english_under_c(extra):
    """C/POSIX is English whatever LANGUAGE says (gettext's rule, gridmap.i18n)."""
    assert _usage_error(["nosuch"], "C.UTF-8", **extra) == \
        "gridmap: No such command 'nosuch'. (see gridmap --help)"


@pytest.mark.parametrize("path", list(_paths(cli)), ids=lambda p: " ".join(p) or "gridmap")
def test_english_help_is_clicks_own_rendering(path):
    """Under the English locale every help page is exactly what plain click prints for the
    English texts written in the code."""
    runner = CliRunner()
    with use_locale("en"):
        ours = runner.invoke(cli, [*path, "--help"], terminal_width=100)
    plain = runner.invoke(_plain(cli), [*path, "--help"], terminal_width=100)
    assert ours.exit_code == plain.exit_code == 0
    assert ours.output == plain.output


def test_c_locale_help_is_english():
    with use_locale("en"):
        expected = CliRunner().invoke(_plain(cli), ["import", "--help"], prog_name="gridmap",
                                      terminal_width=78).output
    assert _help(["import"], "C.UTF-8") == expected


words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=80)


@given(help_text=words, option_help=words, limit=st.integers(10, 120))
@example(help_text="", option_help="0\xa0", limit=10)  # click keeps trailing spaces of help
@settings(deadline=None, max_examples=60)
def test_english_rendering_is_unchanged_for_any_text(help_text, option_help, limit):
    """The classes change nothing for a text the catalogue does not translate."""
    def build(command_cls, option_cls):
        return command_cls("c", help=help_text or None,
                           params=[option_cls(["--x"], help=option_help or None)])
    with use_locale("en"):
        ours = build(cli_help.Command, cli_help.Option)
        plain = build(click.Command, click.Option)
        assert ours.get_short_help_str(limit) == plain.get_short_help_str(limit)
        ctx_ours, ctx_plain = click.Context(ours), click.Context(plain)
        assert ours.get_help(ctx_ours) == plain.get_help(ctx_plain)


@given(text=st.text(st.sampled_from("网格社区街道。 ab,\n"), max_size=120),
       limit=st.integers(2, 100))
def test_first_sentence_fits_its_columns(text, limit):
    short = cli_help.first_sentence(text, limit)
    assert cli_help.columns(short) <= limit
    assert text.replace("\n", "").startswith(short.removesuffix("…"))


def test_short_help_of_a_translation_fits():
    assert translate("Check the hierarchy; exit 0 when valid, 1 with every violation listed.",
                     "zh_CN") != ""
    with use_locale("zh_CN"):
        short = cli.commands["validate"].get_short_help_str(30)
    assert short.startswith("校验层级关系") and short.endswith("…")
    assert cli_help.columns(short) <= 30
