"""Unit tests: BuildKit's shell-word rules, Docker's .dockerignore rules, snapshot diffs."""

from __future__ import annotations

import os

import pytest

from engine.build.dockerignore import PatternMatcher, read_patterns
from engine.build.imageconfig import go_duration, run_command_string
from engine.build.instructions import parse_duration
from engine.build.shellwords import ShellError, ShellLex
from engine.build.snapshot import diff, snapshot

ENV = {"A": "a", "EMPTY": "", "PATH": "/bin:/usr/bin", "SP": "x  y", "FILE": "archive.tar.gz"}


class TestShellWords:
    @pytest.mark.parametrize("word, expected", [
        ("$A", "a"),
        ("${A}", "a"),
        ("pre${A}post", "preapost"),
        ("$UNSET", ""),
        ("${UNSET:-dflt}", "dflt"),
        ("${EMPTY:-dflt}", "dflt"),
        ("${EMPTY-dflt}", ""),
        ("${UNSET-dflt}", "dflt"),
        ("${A:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET+alt}", ""),
        ("'$A'", "$A"),
        ('"$A"', "a"),
        ('"\\$A"', "$A"),
        ("\\$A", "$A"),
        ('"a\\b"', "a\\b"),
        ("a\\ b", "a b"),
        ("${FILE%.gz}", "archive.tar"),
        ("${FILE%%.*}", "archive"),
        ("${FILE#*.}", "tar.gz"),
        ("${FILE##*.}", "gz"),
        ("${PATH/bin/sbin}", "/sbin:/usr/bin"),
        ("${PATH//bin/sbin}", "/sbin:/usr/sbin"),
        ("$", "$"),
        ("${A:-${UNSET:-x}}", "a"),
        ("${UNSET:-${A}b}", "ab"),
        ("$1", ""),
    ])
    def test_process_word(self, word, expected):
        assert ShellLex().process_word(word, ENV) == expected

    def test_words_split_after_expansion_but_not_quotes(self):
        lex = ShellLex()
        assert lex.process_words("$SP z", ENV) == ["x", "y", "z"]
        assert lex.process_words('"$SP" z', ENV) == ["x  y", "z"]
        assert lex.process_words("'a b' c\\ d", ENV) == ["a b", "c d"]

    def test_backtick_escape(self):
        assert ShellLex("`").process_word("`$A", ENV) == "$A"

    def test_raw_quotes_and_skip_unset(self):
        lex = ShellLex(raw_quotes=True, skip_unset_env=True)
        assert lex.process_word('echo "$A" $NOPE ${NOPE:-x}', ENV) == 'echo "a" $NOPE ${NOPE:-x}'

    @pytest.mark.parametrize("word, message", [
        ("${A:-x", "missing '}'"),
        ("${}", "bad substitution"),
        ("${UNSET?must be set}", "UNSET: must be set"),
        ("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
        ("'open", "matching single-quote"),
        ('"open', "matching double-quote"),
        ("${A:x}", "unsupported modifier (:x)"),
    ])
    def test_errors(self, word, message):
        with pytest.raises(ShellError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
            ShellLex().process_word(word, ENV)


class TestDockerignore:
    def matcher(self, text: str) -> PatternMatcher:
        return PatternMatcher(read_patterns(text))

    def test_star_does_not_cross_directories(self):
        m = self.matcher("*.log\n")
        assert m.matches("a.log")
        assert not m.matches("sub/a.log")

    def test_double_star(self):
        m = self.matcher("**/*.log\n")
        assert m.matches("a.log") and m.matches("sub/deep/a.log")

    def test_directory_and_parents(self):
        m = self.matcher("build\n")
        assert m.matches("build") and m.matches("build/x/y")
        assert not m.matches("src/build/x")

    def test_exceptions_last_match_wins(self):
        m = self.matcher("*.md\n!README.md\n")
        assert m.matches("CHANGES.md") and not m.matches("README.md")
        m = self.matcher("docs\n!docs/keep.txt\n")
        assert m.matches("docs/drop.txt") and not m.matches("docs/keep.txt")

    def test_comments_leading_slash_and_clean(self):
        m = self.matcher("# comment\n/secret\n./tmp/../cache\n  \n")
        assert m.matches("secret") and m.matches("cache/x")
        assert not m.matches("# comment")

    def test_question_mark_and_class(self):
        m = self.matcher("file?.txt\n[ab].c\n")
        assert m.matches("file1.txt") and not m.matches("file10.txt")
        assert m.matches("a.c") and not m.matches("c.c")

    def test_prefix_double_star(self):
        m = self.matcher("node_modules/**\n")
        assert m.matches("node_modules/x/y.js")


def test_go_duration_and_parse():
    assert go_duration(0) == "0s"
    assert go_duration(30 * 10**9) == "30s"
    assert go_duration(90 * 10**9) == "1m30s"
    assert go_duration(3600 * 10**9) == "1h0m0s"
    assert go_duration(1500 * 10**6) == "1.5s"
    assert go_duration(5 * 10**6) == "5ms"
    assert parse_duration("1m30s") == 90 * 10**9
    assert parse_duration("1.5s") == 1500 * 10**6


def test_run_command_string():
    assert run_command_string(["/bin/sh", "-c", "echo"], [], {}) == "/bin/sh -c echo"
    assert run_command_string(["/bin/sh", "-c", "echo"], [("V", "1"), ("W", None)], {"V": "2"}) == \
        "|2 V=2 W= /bin/sh -c echo"


def test_snapshot_diff(tmp_path):
    root = tmp_path / "r"
    (root / "keep").mkdir(parents=True)
    (root / "keep/same.txt").write_text("same")
    (root / "gone.txt").write_text("x")
    (root / "dir/sub").mkdir(parents=True)
    (root / "dir/sub/old").write_text("old")
    (root / "edit.txt").write_text("a")
    before = snapshot(str(root))
    (root / "gone.txt").unlink()
    import shutil

    shutil.rmtree(root / "dir")
    (root / "dir").mkdir()
    (root / "dir/new").write_text("new")
    with open(root / "edit.txt", "a") as f:
        f.write("b")
    os.symlink("edit.txt", root / "link")
    changes = diff(before, snapshot(str(root)))
    assert changes.whiteouts == ["gone.txt"]
    assert changes.opaque == ["dir"]
    assert set(changes.entries) == {"dir", "dir/new", "edit.txt", "link"}
