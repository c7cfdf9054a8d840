"""Tests of cli.gotemplate, the Go text/template subset behind ``--format``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.gotemplate import (
    DEFAULT_FUNCS,
    Template,
    TemplateError,
    compile,
    go_json_marshal,
    render,
)
from cli.gotemplate.gofmt import format_float, go_quote, sprintf
from engine.errors import StrataError

IMAGE = {
    "Id": "sha256:0123456789abcdef",
    "RepoTags": ["alpine:3.19", "alpine:latest"],
    "RepoDigests": [],
    "Size": 7_377_920,
    "Created": "2024-01-27T00:00:00Z",
    "Config": {
        "Env": ["PATH=/usr/bin", "LANG=C"],
        "Cmd": ["/bin/sh"],
        "Entrypoint": None,
        "Labels": {"org.opencontainers.image.version": "3.19", "a.b": "c", "maintainer": "me"},
        "ExposedPorts": {"80/tcp": {}},
    },
    "RootFS": {"Type": "layers", "Layers": ["sha256:aaa", "sha256:bbb"]},
}


def r(template: str, data=IMAGE, **funcs) -> str:
    """Render with optional extra functions."""
    return render(template, data, funcs or None)


def err(template: str, data=IMAGE) -> str:
    """Render expecting a TemplateError; return its message."""
    with pytest.raises(TemplateError) as info:
        render(template, data)
    return str(info.value)


# -- docker-style formats -----------------------------------------------------------


class TestDockerFormats:
    def test_field(self):
        assert r("{{.Id}}") == "sha256:0123456789abcdef"

    def test_nested_fields(self):
        assert r("{{.RootFS.Type}} {{.RootFS.Layers}}") == "layers [sha256:aaa sha256:bbb]"

    def test_json_of_dict_keeps_order_and_is_compact(self):
        assert r("{{json .RootFS}}") == '{"Type":"layers","Layers":["sha256:aaa","sha256:bbb"]}'

    def test_json_of_config(self):
        out = r("{{json .Config}}")
        assert json.loads(out) == IMAGE["Config"]
        assert " " not in out.replace("PATH=/usr/bin", "")
        assert '"Entrypoint":null' in out

    def test_range_list(self):
        assert r("{{range .RepoTags}}{{.}} {{end}}") == "alpine:3.19 alpine:latest "

    def test_index_dotted_label(self):
        assert r('{{index .Config.Labels "a.b"}}') == "c"
        assert r('{{index .Config.Labels "org.opencontainers.image.version"}}') == "3.19"

    def test_join(self):
        assert r('{{join .Config.Env ","}}') == "PATH=/usr/bin,LANG=C"

    def test_printf_width(self):
        data = {"Name": "web", "Size": 42}
        assert r('{{printf "%-10s|%5d" .Name .Size}}', data) == "web       |   42"

    def test_if_else_on_list(self):
        assert r("{{if .Config.Cmd}}yes{{else}}no{{end}}") == "yes"
        assert r("{{if .Config.Entrypoint}}yes{{else}}no{{end}}") == "no"

    def test_range_key_value_sorted(self):
        data = {"Labels": {"zeta": "1", "alpha": "2", "mid": "3"}}
        assert r("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", data) == "alpha=2;mid=3;zeta=1;"

    def test_range_map_single_var_gives_values(self):
        assert r("{{range $v := .}}{{$v}}{{end}}", {"b": 2, "a": 1}) == "12"

    def test_println_per_item(self):
        assert r("{{range .RootFS.Layers}}{{println .}}{{end}}") == "sha256:aaa\nsha256:bbb\n"

    def test_exposed_ports_keys(self):
        assert r("{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}") == "80/tcp "

    def test_len_and_conditional(self):
        assert r("{{len .RepoTags}} {{if gt (len .RepoDigests) 0}}d{{else}}none{{end}}") == "2 none"

    def test_table_like_tabs(self):
        assert r('{{.RootFS.Type}}\t{{index .RepoTags 0}}') == "layers\talpine:3.19"

    def test_split_and_index(self):
        assert r('{{index (split (index .RepoTags 0) ":") 1}}') == "3.19"

    def test_case_functions(self):
        data = {"Name": "my web-app"}
        assert r("{{upper .Name}}|{{lower \"ABC\"}}|{{title .Name}}", data) == "MY WEB-APP|abc|My Web-App"

    def test_pad_and_truncate(self):
        assert r('{{pad "x" 2 1}}|{{pad "" 2 1}}|{{truncate .Id 12}}|{{truncate "ab" 5}}') == (
            "  x |" + "|sha256:01234|ab"
        )

    def test_whole_object(self):
        assert r("{{.Config.Labels}}") == "map[a.b:c maintainer:me org.opencontainers.image.version:3.19]"

    def test_json_of_everything_roundtrips(self):
        assert json.loads(r("{{json .}}")) == IMAGE


# -- text, actions, trim markers, comments ----------------------------------------------


class TestTextAndTrim:
    def test_plain_text(self):
        assert r("hello } { world") == "hello } { world"

    def test_empty_template(self):
        assert r("") == ""

    def test_trim_left_and_right(self):
        assert r("a  \n {{- .RootFS.Type -}} \n\t b") == "alayersb"

    def test_trim_only_left(self):
        assert r("a \n{{- .RootFS.Type }} b") == "alayers b"

    def test_minus_without_space_is_number(self):
        assert r("{{-3}}") == "-3"

    def test_comment(self):
        assert r("a{{/* a comment {{ */}}b") == "ab"

    def test_comment_with_trim(self):
        assert r("a \n {{- /* c */ -}} \n b") == "ab"

    def test_multiline_comment(self):
        assert r("x{{/*\nline1\nline2\n*/}}y") == "xy"

    def test_newlines_inside_action(self):
        assert r("{{printf\n  \"%s-%s\"\n  .RootFS.Type\n  .Id}}") == "layers-sha256:0123456789abcdef"

    def test_trim_in_range(self):
        template = "{{range .RepoTags -}}\n  {{.}}\n{{- end}}"
        assert r(template) == "alpine:3.19alpine:latest"

    def test_unicode_field_names(self):
        assert r("{{.Größe}}", {"Größe": 3}) == "3"

    def test_declaration_prints_nothing(self):
        assert r("{{$x := .Id}}") == ""


# -- values and printing ------------------------------------------------------------


class TestPrinting:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("s", "s"),
            (42, "42"),
            (-7, "-7"),
            (True, "true"),
            (False, "false"),
            (1.0, "1"),
            (2.5, "2.5"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (float("inf"), "+Inf"),
            (float("nan"), "NaN"),
            (["a", "b", "c"], "[a b c]"),
            ([], "[]"),
            ({"b": 2, "a": 1}, "map[a:1 b:2]"),
            ({"x": [1, None]}, "map[x:[1 <nil>]]"),
            ({}, "map[]"),
            (None, "<no value>"),
        ],
    )
    def test_dot(self, value, expected):
        assert r("{{.}}", value) == expected

    def test_missing_key_is_no_value(self):
        assert r("{{.Nope}}") == "<no value>"

    def test_chain_through_missing_key_is_no_value(self):
        assert r("{{.Nope.Deeper.Still}}") == "<no value>"

    def test_null_value_prints_no_value(self):
        assert r("{{.Config.Entrypoint}}") == "<no value>"

    def test_field_of_null_is_error(self):
        message = err("{{.Config.Entrypoint.Foo}}")
        assert "nil pointer evaluating interface {}.Foo" in message
        assert message.startswith("template: :1:3: ")

    def test_nil_to_function_is_nil(self):
        assert r("{{print .Nope}}|{{printf \"%v\" .Config.Entrypoint}}") == "<nil>|<nil>"

    def test_literals(self):
        assert r('{{"a\\tb"}}|{{`raw\\n`}}|{{1_000}}|{{0x1F}}|{{0o17}}|{{017}}|{{0b101}}|{{1e3}}|{{\'a\'}}') == (
            "a\tb|raw\\n|1000|31|15|15|5|1000|97"
        )

    def test_string_escapes(self):
        assert r('{{"\\x41\\101\\u00e9\\U0001F600\\"\\\\"}}') == 'AAé😀"\\'

    def test_bool_and_nil_literals(self):
        assert r("{{true}} {{false}} {{print nil}}") == "true false <nil>"

    def test_data_none(self):
        assert r("{{.}}|{{.Foo}}", None) == "<no value>|<no value>"


# -- objects -----------------------------------------------------------------------


@dataclass
class Image:
    Name: str
    Tags: list = field(default_factory=list)
    _secret: str = "hidden"

    def Short(self, n=3):
        return self.Name[:n]

    def Broken(self):
        raise RuntimeError("boom")


class TestObjects:
    def test_attribute(self):
        assert r("{{.Name}} {{.Tags}}", Image("web", ["a"])) == "web [a]"

    def test_method_call_with_and_without_args(self):
        img = Image("webserver")
        assert r('{{.Short}} {{.Short 5}} {{4 | .Short}}', img) == "web webse webs"

    def test_struct_printing(self):
        img = Image("web", ["a"])
        assert r("{{.}}", img) == "{web [a] hidden}"
        assert r('{{printf "%+v" .}}', img) == "{Name:web Tags:[a] _secret:hidden}"

    def test_private_attribute_refused(self):
        assert "can't evaluate field _secret" in err("{{._secret}}", Image("x"))

    def test_unknown_attribute(self):
        assert "can't evaluate field Nope in type Image" in err("{{.Nope}}", Image("x"))

    def test_field_of_string(self):
        assert "can't evaluate field upper in type string" in err("{{.Name.upper}}", Image("x"))

    def test_method_error(self):
        assert "error calling Broken: boom" in err("{{.Broken}}", Image("x"))

    def test_json_of_dataclass(self):
        assert r("{{json .}}", Image("w", [])) == '{"Name":"w","Tags":[],"_secret":"hidden"}'

    def test_call(self):
        assert r("{{call .F 2 3}}", {"F": lambda a, b: a * b}) == "6"
        assert "error calling call" in err("{{call .X}}", {"X": 1})


# -- variables --------------------------------------------------------------------


class TestVariables:
    def test_declare_and_use(self):
        assert r("{{$t := .RootFS.Type}}{{$t}}") == "layers"

    def test_assign(self):
        assert r("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}") == "2"

    def test_shadowing_in_if(self):
        assert r("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}") == "21"

    def test_dollar_is_root_inside_range(self):
        assert r("{{range .RepoTags}}{{$.RootFS.Type}}:{{.}} {{end}}") == "layers:alpine:3.19 layers:alpine:latest "

    def test_index_and_element(self):
        assert r("{{range $i, $e := .RepoTags}}{{$i}}={{$e}} {{end}}") == "0=alpine:3.19 1=alpine:latest "

    def test_variable_field_chain(self):
        assert r("{{$c := .Config}}{{$c.Labels.maintainer}}") == "me"

    def test_assignment_accumulates_in_range(self):
        assert r("{{$n := 0}}{{range .RepoTags}}{{$n = len .}}{{end}}{{$n}}") == "13"

    def test_range_assign_form(self):
        assert r("{{$i := 0}}{{$e := 0}}{{range $i, $e = .RepoTags}}{{end}}{{$i}} {{$e}}") == "1 alpine:latest"

    def test_variable_scope_ends_with_control(self):
        assert 'undefined variable "$x"' in err("{{if true}}{{$x := 1}}{{end}}{{$x}}")

    def test_undefined_variable(self):
        assert 'undefined variable "$nope"' in err("{{$nope}}")

    def test_assign_to_undefined(self):
        assert 'undefined variable "$y"' in err("{{$y = 1}}")

    def test_with_declaration(self):
        assert r("{{with $l := .Config.Labels}}{{$l.maintainer}}{{end}}") == "me"


# -- control structures --------------------------------------------------------------


class TestControl:
    def test_else_if_chain(self):
        template = "{{if eq .N 1}}one{{else if eq .N 2}}two{{else if eq .N 3}}three{{else}}many{{end}}"
        assert [r(template, {"N": n}) for n in (1, 2, 3, 4)] == ["one", "two", "three", "many"]

    def test_with_sets_dot(self):
        assert r("{{with .RootFS}}{{.Type}}{{end}}") == "layers"

    def test_with_else(self):
        assert r("{{with .Config.Entrypoint}}{{.}}{{else}}none{{end}}") == "none"

    def test_else_with(self):
        assert r("{{with .Nope}}a{{else with .RootFS}}{{.Type}}{{else}}c{{end}}") == "layers"

    def test_range_else(self):
        assert r("{{range .RepoDigests}}{{.}}{{else}}<none>{{end}}") == "<none>"

    def test_range_over_missing_and_nil(self):
        assert r("{{range .Nope}}x{{else}}e{{end}}{{range .Config.Entrypoint}}x{{else}}e{{end}}") == "ee"

    def test_range_int(self):
        assert r("{{range 3}}{{.}}{{end}}") == "012"

    def test_range_string_is_error(self):
        assert "range can't iterate over layers" in err("{{range .RootFS.Type}}{{end}}")

    def test_break_and_continue(self):
        template = "{{range .}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}"
        assert r(template, [1, 2, 3, 4, 5]) == "13"

    def test_nested_range(self):
        data = {"Rows": [["a", "b"], ["c"]]}
        assert r("{{range .Rows}}[{{range .}}{{.}}{{end}}]{{end}}", data) == "[ab][c]"

    @pytest.mark.parametrize(
        ("value", "truth"),
        [("", False), ("x", True), (0, False), (1, True), (0.0, False), (-0.5, True), ([], False),
         ([0], True), ({}, False), ({"a": 1}, True), (None, False), (False, False), (True, True)],
    )
    def test_truthiness(self, value, truth):
        assert r("{{if .V}}T{{else}}F{{end}}", {"V": value}) == ("T" if truth else "F")

    def test_define_and_template(self):
        template = '{{define "tag"}}<{{.}}>{{end}}{{range .RepoTags}}{{template "tag" .}}{{end}}'
        assert r(template) == "<alpine:3.19><alpine:latest>"

    def test_template_without_pipeline_gets_no_value(self):
        assert r('{{define "x"}}[{{.}}]{{end}}{{template "x"}}') == "[<no value>]"

    def test_block(self):
        assert r('{{block "b" .RootFS}}{{.Type}}{{end}}!') == "layers!"

    def test_block_and_define_of_same_name_conflict_like_go(self):
        assert "multiple definition" in err('{{block "b" .}}default{{end}}{{define "b"}}custom{{end}}')

    def test_empty_define_does_not_conflict(self):
        assert r('{{define "b"}} {{end}}{{block "b" .RootFS}}{{.Type}}{{end}}') == "layers"

    def test_template_dollar_is_its_argument(self):
        assert r('{{define "x"}}{{$}}{{end}}{{template "x" 5}}') == "5"

    def test_recursive_template_depth_limit(self):
        assert "exceeded maximum template depth" in err('{{define "x"}}{{template "x" .}}{{end}}{{template "x" .}}')

    def test_no_such_template(self):
        assert 'no such template "nope"' in err('{{template "nope"}}')

    def test_defined_templates(self):
        assert compile('{{define "a"}}{{end}}{{block "b" .}}{{end}}').defined_templates == ["a", "b"]


# -- functions ----------------------------------------------------------------------------


class TestFunctions:
    def test_pipeline_passes_last_argument(self):
        assert r('{{.RootFS.Type | printf "%s-%s" "x"}}') == "x-layers"

    def test_parenthesised(self):
        assert r('{{printf "%d" (len (index .RootFS.Layers 0))}}') == "10"

    def test_chain_on_paren(self):
        data = {"Ports": {"80/tcp": [{"HostPort": "8080"}]}}
        assert r('{{(index (index .Ports "80/tcp") 0).HostPort}}', data) == "8080"

    def test_and_or_return_values(self):
        assert r('{{and 1 0 2}}|{{and 1 2}}|{{or 0 "" "x"}}|{{or 0 ""}}') == '0|2|x|'

    def test_and_short_circuits(self):
        assert r("{{and .Nope (index .Nope 5)}}") == "<no value>"
        assert r("{{or .Id (index .Nope 5)}}") == IMAGE["Id"]

    def test_not(self):
        assert r("{{not .RepoDigests}} {{not 1}}") == "true false"

    def test_comparisons(self):
        out = r('{{eq 1 1}} {{eq "a" "b" "a"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}')
        assert out == "true true true true true true false"

    def test_compare_int_float(self):
        assert r("{{eq 0.0 .N}} {{lt .N 0.5}}", {"N": 0}) == "true true"

    def test_eq_nil(self):
        assert r("{{eq .Config.Entrypoint nil}} {{eq .Nope 1}}") == "true false"

    def test_incompatible_comparison(self):
        assert "incompatible types for comparison" in err('{{eq "1" 1}}')
        assert "invalid type for comparison" in err("{{lt true false}}")
        assert "non-comparable type" in err("{{eq .RepoTags .RepoTags}}")

    def test_index_nested_and_errors(self):
        data = {"M": {"k": ["x", "y"]}}
        assert r('{{index .M "k" 1}}|{{index .M "none"}}|{{index .M}}', data) == "y|<no value>|map[k:[x y]]"
        assert "index out of range: 5" in err("{{index .RepoTags 5}}")
        assert "index of untyped nil" in err('{{index .Nope "a"}}')
        assert "error calling index" in err('{{index .RepoTags "a"}}')

    def test_index_string_gives_byte(self):
        assert r('{{index "abc" 1}}') == "98"

    def test_slice(self):
        assert r('{{slice .RepoTags 1}}|{{slice "hello" 1 3}}|{{slice .RepoTags 0 1}}|{{slice "x"}}') == (
            "[alpine:latest]|el|[alpine:3.19]|x"
        )
        assert "invalid slice index" in err('{{slice "abc" 2 1}}')
        assert "cannot 3-index slice a string" in err('{{slice "abc" 0 1 2}}')

    def test_len(self):
        assert r('{{len "héllo"}} {{len .Config.Labels}} {{len .RepoDigests}}') == "6 3 0"
        assert "len of type int" in err("{{len 3}}")

    def test_print_spacing(self):
        assert r('{{print "a" 1 2 "b" 3.5}}') == "a1 2b3.5"
        assert r('{{println "a" 1}}') == "a 1\n"

    def test_html_js_urlquery(self):
        assert r('{{html "<a href=\\"x\\">&\'"}}') == "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"
        assert r('{{js "it\'s <b>\\n"}}') == "it\\'s \\u003Cb\\u003E\\u000A"
        assert r('{{urlquery "a b&c/d"}}') == "a+b%26c%2Fd"
        assert r("{{html 1 2}}") == "1 2"

    def test_json_escaping_like_docker(self):
        assert r('{{json "<a&b>\\u2028\\n\\x01"}}') == '"<a&b>\\u2028\\n\\u0001"'

    def test_json_control_characters_like_go_1_22(self):
        assert r('{{json "\\b\\f\\t\\r"}}') == '"\\b\\f\\t\\r"'

    def test_json_keeps_non_ascii(self):
        assert r('{{json "é☃"}}') == '"é☃"'

    def test_json_scalars(self):
        assert r("{{json 1.0}} {{json 1.5e-7}} {{json 1e21}} {{json true}} {{json .Nope}}") == (
            "1 1.5e-7 1e+21 true null"
        )

    def test_json_unsupported_is_empty_like_docker(self):
        assert r("{{json .}}", float("nan")) == ""

    def test_go_json_marshal_html_escaping(self):
        assert go_json_marshal("<&>", escape_html=True) == '"\\u003c\\u0026\\u003e"'

    def test_split_join(self):
        assert r('{{split "a:b:c" ":"}}|{{join (split "a:b" ":") "-"}}|{{split "ab" ""}}') == "[a b c]|a-b|[a b]"
        assert r('{{join .Nope ","}}') == ""

    def test_title_like_go(self):
        assert r('{{title "hello wORLD foo_bar x-y"}}') == "Hello WORLD Foo_bar X-Y"

    def test_custom_funcs(self):
        assert r("{{shout .RootFS.Type}}", shout=lambda s: s.upper() + "!") == "LAYERS!"

    def test_custom_func_overrides_default(self):
        assert r('{{join "x" "y"}}', join=lambda a, b: a + b) == "xy"

    def test_custom_func_error(self):
        def bad(_):
            raise ValueError("nope")

        with pytest.raises(TemplateError, match="error calling bad: nope"):
            render("{{bad 1}}", {}, {"bad": bad})

    def test_wrong_arg_type(self):
        assert "wrong type for value; expected string; got int" in err("{{upper 1}}")
        assert "wrong type for value; expected []string; got int" in err('{{join 1 ","}}')
        assert "wrong type for value; expected string; got int" in err("{{join .RepoTags 1}}")
        assert "expected int" in err('{{pad "a" "b" 1}}')

    def test_default_funcs_listed(self):
        for name in ("json", "split", "join", "title", "lower", "upper", "pad", "truncate", "println",
                     "and", "or", "not", "len", "index", "slice", "print", "printf", "eq", "ne", "lt",
                     "le", "gt", "ge", "html", "js", "urlquery", "call"):
            assert name in DEFAULT_FUNCS


# -- printf ----------------------------------------------------------------------------


class TestPrintf:
    @pytest.mark.parametrize(
        ("fmt", "args", "expected"),
        [
            ("%s|%v|%d", ["a", "b", 3], "a|b|3"),
            ("%5s|%-5s|%.2s", ["ab", "ab", "abc"], "   ab|ab   |ab"),
            ("%q", ['a"b\n'], '"a\\"b\\n"'),
            ("%+q", ["é"], '"\\u00e9"'),
            ("%#q", ["ab"], "`ab`"),
            ("%x|%X|% x|%#x", ["hi", "hi", "hi", "hi"], "6869|6869|68 69|0x6869"),
            ("%d|%+d|% d|%05d|%-5d|%.3d", [5, 5, 5, -42, 7, 7], "5|+5| 5|-0042|7    |007"),
            ("%x|%X|%#x|%o|%#o|%O|%b|%#b", [255, 255, 255, 8, 8, 8, 5, 5], "ff|FF|0xff|10|010|0o10|101|0b101"),
            ("%c|%q|%U|%#U", [65, 65, 0x1F600, 65], "A|'A'|U+1F600|U+0041 'A'"),
            ("%t|%v", [True, False], "true|false"),
            ("%f|%.2f|%8.3f|%-8.1f|%+.1f|%08.2f", [3.14159] * 5 + [-3.14159], "3.141590|3.14|   3.142|3.1     |+3.1|-0003.14"),
            ("%e|%E|%.2e", [1234.5678, 1234.5678, 0.000123], "1.234568e+03|1.234568E+03|1.23e-04"),
            ("%g|%g|%.3g|%g|%G", [1234.5678, 1e-7, 1234.5678, 100000.0, 1e21], "1234.5678|1e-07|1.23e+03|100000|1E+21"),
            ("%v|%v", [[1, "a", None], {"b": [1], "a": 2}], "[1 a <nil>]|map[a:2 b:[1]]"),
            ("%d", [[1, 2]], "[1 2]"),
            ("%5d", [[1, 2]], "[    1     2]"),
            ("%q", [["a", "b"]], '["a" "b"]'),
            ("%T|%T|%T|%T", [1, "s", [], {}], "int|string|[]interface {}|map[string]interface {}"),
            ("100%%", [], "100%"),
            ("%*d|%-*d|", [4, 1, 3, 2], "   1|2  |"),
            ("%[2]s %[1]s", ["a", "b"], "b a"),
            ("%.*f", [1, 2.25], "2.2"),
            ("%6.2f%%", [99.5], " 99.50%"),
        ],
    )
    def test_verbs(self, fmt, args, expected):
        assert sprintf(fmt, args) == expected

    @pytest.mark.parametrize(
        ("fmt", "args", "expected"),
        [
            ("%d", ["x"], "%!d(string=x)"),
            ("%s", [1], "%!s(int=1)"),
            ("%f", [1], "%!f(int=1)"),
            ("%d", [1.5], "%!d(float64=1.5)"),
            ("%s", [None], "%!s(<nil>)"),
            ("%v", [None], "<nil>"),
            ("%d %d", [1], "1 %!d(MISSING)"),
            ("%d", [1, "x"], "1%!(EXTRA string=x)"),
            ("%", [], "%!(NOVERB)"),
            ("%[3]d", [1], "%!d(BADINDEX)"),
            ("%*d", ["x", 1], "%!(BADWIDTH)1"),
        ],
    )
    def test_bad_verbs_and_args(self, fmt, args, expected):
        assert sprintf(fmt, args) == expected

    def test_printf_in_template(self):
        assert r('{{printf "%-12s %8.2f MB" .RootFS.Type .MB}}', {"RootFS": {"Type": "x"}, "MB": 7.0361}) == (
            "x                7.04 MB"
        )

    def test_printf_float_literal_with_d(self):
        assert r('{{printf "%d|%v" 3.0 3.0}}') == "%!d(float64=3)|3"


# -- errors --------------------------------------------------------------------------------


class TestErrors:
    def test_is_strata_error(self):
        assert issubclass(TemplateError, StrataError)

    @pytest.mark.parametrize(
        ("template", "fragment"),
        [
            ("{{.Id", "unclosed action"),
            ("{{ .Id ", "unclosed action"),
            ("{{.Id}", "bad character U+007D '}'"),
            ("{{nope .}}", 'function "nope" not defined'),
            ("{{if .Id}}x", "unexpected EOF"),
            ("{{range .RepoTags}}", "unexpected EOF"),
            ("{{end}}", "unexpected {{end}}"),
            ("{{else}}", "unexpected {{else}}"),
            ("{{if .Id}}{{else}}{{else}}{{end}}", "expected end; found {{else}}"),
            ("{{if}}{{end}}", "missing value for if"),
            ("{{break}}", "{{break}} outside {{range}}"),
            ("{{range .}}{{else}}{{continue}}{{end}}", "{{continue}} outside {{range}}"),
            ('{{"abc}}', "unterminated quoted string"),
            ("{{`abc}}", "unterminated raw quoted string"),
            ("{{'ab'}}", "invalid syntax"),
            ("{{/* abc }}", "unclosed comment"),
            ("{{/* a */ .Id}}", "comment ends before closing delimiter"),
            ("{{1x}}", "bad number syntax"),
            ("{{(.Id}}", "unclosed left paren"),
            ("{{.Id)}}", "unexpected right paren"),
            ("{{len(.Id)}}", 'unexpected "(" in operand'),
            ("{{.Id | }}", "missing command after |"),
            ("{{.Id | 1}}", "non executable command in pipeline stage 2"),
            ("{{#}}", "unrecognized character in action"),
            ("{{.Id#}}", "bad character U+0023 '#'"),
            ("{{$a, $b := 1}}", "too many declarations in command"),
            ('{{"a".b}}', "unexpected . after term"),
            ('{{define "x"}}a{{end}}{{define "x"}}b{{end}}', "multiple definition of template"),
            ("{{3i}}", "complex numbers are not supported"),
            ("{{with .Id}}{{else if .Id}}{{end}}", "unexpected <if> after {{else}} in {{with}}"),
            ('{{define "x"}}{{else}}{{end}}', "unexpected {{else}} in define"),
            ("{{if .Id}}{{define \"x\"}}{{end}}{{end}}", "unexpected <define> in command"),
        ],
    )
    def test_parse_errors(self, template, fragment):
        message = err(template)
        assert fragment in message
        assert message.startswith("template: :")
        assert "\n" not in message

    @pytest.mark.parametrize(
        ("template", "fragment"),
        [
            ("{{join .Config.Env}}", "wrong number of args for join: want 2 got 1"),
            ("{{not 1 2}}", "wrong number of args for not: want 1 got 2"),
            ("{{index}}", "wrong number of args for index: want at least 1 got 0"),
            ("{{and}}", "wrong number of args for and: want at least 1 got 0"),
            ("{{.Id .RootFS}}", "Id is not a method but has arguments"),
            ("{{.Id | .RootFS}}", "RootFS is not a method but has arguments"),
            ('{{"x" 1}}', 'can\'t give argument to non-function "x"'),
            ("{{nil}}", "nil is not a command"),
            ("{{.RepoTags.First}}", "can't evaluate field First in type []interface {}"),
            ("{{range $i, $e := 3}}{{end}}", "can't use 3 to iterate over more than one variable"),
            ("{{lower .Nope}}", "invalid value; expected string"),
        ],
    )
    def test_exec_errors(self, template, fragment):
        message = err(template)
        assert fragment in message
        assert 'executing ""' in message

    def test_exec_error_position(self):
        message = err("line1\n  {{index .RepoTags 7}}")
        assert message == (
            'template: :2:5: executing "" at <index .RepoTags 7>: error calling index: index out of range: 7'
        )

    def test_exec_error_names_defined_template(self):
        message = err('{{define "t"}}{{.X.Y}}{{end}}{{template "t" .}}', {"X": None})
        assert 'executing "t" at <.X.Y>' in message

    def test_compile_once_execute_many(self):
        tmpl = compile("{{.A}}-{{len .B}}")
        assert isinstance(tmpl, Template)
        assert [tmpl.execute({"A": i, "B": "x" * i}) for i in range(3)] == ["0-0", "1-1", "2-2"]

    def test_parse_error_at_compile_time(self):
        with pytest.raises(TemplateError):
            compile("{{if}}")


# -- properties -----------------------------------------------------------------------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
_json_scalars = (
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | _text
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


def _numbers_as_floats(value):
    """Go may print an integral float as an int ("1e+16" as 10000000000000000): compare as floats."""
    if isinstance(value, list):
        return [_numbers_as_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


class TestProperties:
    @given(st.text(max_size=200).filter(lambda s: "{{" not in s))
    def test_text_without_actions_renders_to_itself(self, text):
        assert render(text, None) == text

    @given(_text)
    def test_quoted_literal_renders_its_value(self, text):
        assert render("{{" + go_quote(text) + "}}", None) == text

    @given(_text)
    def test_raw_literal_renders_its_value(self, text):
        text = text.replace("`", "").replace("\r", "")
        assert render("{{`" + text + "`}}", None) == text

    @settings(max_examples=60)
    @given(_json_values)
    def test_json_roundtrips(self, value):
        assert _numbers_as_floats(json.loads(render("{{json .}}", value))) == _numbers_as_floats(value)

    @given(st.floats(allow_nan=False, allow_infinity=False))
    def test_float_printing_roundtrips(self, value):
        out = render("{{.}}", value)
        assert float(out) == value
        assert math.copysign(1, float(out)) == math.copysign(1, value)

    @given(st.integers(), st.sampled_from(["d", "x", "X", "o", "b"]))
    def test_integer_verbs_match_python(self, value, verb):
        assert sprintf("%" + verb, [value]) == format(value, verb)

    @given(st.floats(allow_nan=False, allow_infinity=False), st.integers(0, 12))
    def test_fixed_precision_matches_python(self, value, prec):
        assert format_float(value, "f", prec) == f"{value:.{prec}f}"

    @given(st.lists(st.text(alphabet="abc ,", max_size=5), max_size=5), st.sampled_from([",", " ", "--"]))
    def test_join_matches_python(self, items, sep):
        assert render("{{join .I .S}}", {"I": items, "S": sep}) == sep.join(items)
