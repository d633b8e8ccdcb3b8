"""housevoice.toml: the written template parses, and every bad value names its key."""

from __future__ import annotations

import pytest

from housevoice.config import load_config
from housevoice.errors import ConfigError
from housevoice.store import Workspace


def test_init_writes_a_commented_config_that_parses(workspace):
    text = (workspace.root / "housevoice.toml").read_text()
    assert text.count("#") > 10
    config = load_config(workspace.root / "housevoice.toml")
    assert config.workspace.version == 1
    assert config.curate.routes["exact_duplicate"] == "drop"
    assert config.curate.flagger_settings("length")["max_tokens"] == 4096
    assert config.curate.route_of("too_short", "transcript_turn") == "drop"
    assert config.curate.route_of("too_short", "post") == config.curate.route_of("too_short") == "review"
    assert config.curate.route_of("no_such_flag", "post") == "review"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("[curate]\nbogus = 1\n", "unknown key 'curate.bogus'"),
        ("[ingest]\nmax_record_mb = -3\n", "'ingest.max_record_mb' = -3"),
        ("[ingest]\nspeed = 2\n", "unknown key 'ingest.speed'"),
        ("[curate]\nflaggers = [\"html\", \"magic\"]\n", "unknown flagger 'magic'"),
        ("[curate.routes]\nhtml = \"delete\"\n", "'curate.routes.html' = 'delete'"),
        ("[curate.kind_routes.page]\nnot_prose = \"bin\"\n", "'curate.kind_routes.page.not_prose' = 'bin'"),
        ("[workspace]\nversion = 7\n", "workspace version 7 is not supported"),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_bad_config_names_key_and_value(tmp_path, snippet, expected):
    path = tmp_path / "housevoice.toml"
    path.write_text(snippet)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_open_fails_early_on_a_broken_config(workspace):
    (workspace.root / "housevoice.toml").write_text("[model]\nbase = 3\n")
    with pytest.raises(ConfigError, match="'model.base' = 3"):
        Workspace.open(workspace.root)
