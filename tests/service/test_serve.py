"""``contraxis serve``: what it refuses, what it passes to uvicorn, and its settings file."""

from __future__ import annotations

import logging
import os

import pytest

from contraxis.cli import serve
from contraxis.service.auth import hash_api_key, new_api_key
from contraxis.service.settings import ServiceSettings


@pytest.fixture
def started(monkeypatch, tmp_path):
    """``uvicorn.run`` replaced by a recorder; no ``CONTRAXIS_*`` variable but a state folder of
    the test's own; the process environment restored afterwards."""
    import uvicorn

    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("CONTRAXIS_")]:
        del os.environ[name]
    os.environ["CONTRAXIS_STATE_DIR"] = str(tmp_path / "state")
    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append({"app": app, **options}))
    yield calls
    os.environ.clear()
    os.environ.update(saved)


def test_serving_on_every_interface_without_authentication_is_refused(started, caplog):
    """Check that --host 0.0.0.0 with no authentication configured stops with exit code 2 and says why."""
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as stopped:
        serve.serve_command(host="0.0.0.0", public_url="https://cds.example.org")
    assert stopped.value.code == 2
    assert started == []
    assert any("refusing to start" in r.message and "--insecure" in r.message for r in caplog.records)


def test_insecure_serves_and_says_so(started, caplog):
    """Check that --insecure starts the server anyway, with a warning in the log."""
    with caplog.at_level(logging.WARNING):
        serve.serve_command(host="0.0.0.0", public_url="http://cds.example.org:8000", insecure=True)
    assert started and started[0]["host"] == "0.0.0.0"
    assert any(r.levelno == logging.WARNING and "--insecure" in r.message for r in caplog.records)


def test_loopback_without_authentication_is_the_quick_start(started):
    """Check that the default (127.0.0.1, no authentication) starts, believing no proxy headers."""
    serve.serve_command()
    options = started[0]
    assert options["host"] == "127.0.0.1" and options["port"] == 8000
    assert options["proxy_headers"] is False and options["ssl_certfile"] is None
    assert options["access_log"] is False and options["server_header"] is False


def test_a_settings_file_gives_tls_proxies_workers_and_keys(started, tmp_path):
    """Check that a YAML settings file reaches uvicorn (TLS, trusted proxies, workers) and the
    workers' settings (the same file, through CONTRAXIS_SETTINGS_FILE)."""
    key = new_api_key()
    (tmp_path / "cert.pem").write_text("-")
    (tmp_path / "key.pem").write_text("-")
    (tmp_path / "contraxis.yaml").write_text(f"""
host: 0.0.0.0
port: 8443
workers: 2
public_url: https://cds.example.org
ssl_certfile: {tmp_path / "cert.pem"}
ssl_keyfile: {tmp_path / "key.pem"}
forwarded_allow_ips: [10.0.0.5]
api_keys:
  - {{name: ward-7, roles: [clinician], sha256: {hash_api_key(key)}}}
audit:
  path: {tmp_path / "audit.jsonl"}
  access_log: true
""")
    serve.serve_command(settings=tmp_path / "contraxis.yaml")
    options = started[0]
    assert (options["host"], options["port"], options["workers"]) == ("0.0.0.0", 8443, 2)
    assert options["ssl_certfile"] == str(tmp_path / "cert.pem")
    assert options["proxy_headers"] is True and options["forwarded_allow_ips"] == "10.0.0.5"
    assert options["access_log"] is True
    worker = ServiceSettings()  # what each worker reads
    assert worker.public_url == "https://cds.example.org" and worker.api_keys[0].name == "ward-7"
    assert worker.audit_path == tmp_path / "audit.jsonl"


def test_command_line_options_win_over_the_settings_file(started, tmp_path):
    """Check that --port given on the command line overrides the file, for the workers too."""
    (tmp_path / "contraxis.yaml").write_text("port: 9000\n")
    serve.serve_command(settings=tmp_path / "contraxis.yaml", port=9100)
    assert started[0]["port"] == 9100 and ServiceSettings().port == 9100


@pytest.mark.parametrize("text, message", [
    ("workers: many\n", "workers"),
    ("public_url: cds.example.org\n", "public_url"),
    ("cds_clients: [{issuer: https://ehr.example.org}]\n", "jwks_url"),
    ("cds_clients: [{issuer: x, jwks_file: j.json, algorithms: [none]}]\n", "none"),
    ("ssl_certfile: /etc/cert.pem\n", "go together"),
    ("api_keys: [{name: x, sha256: plain-text-key}]\n", "sha256"),
    ("no_such_setting: 1\n", "no_such_setting"),
])
def test_a_bad_settings_file_stops_naming_the_setting(started, tmp_path, caplog, text, message):
    """Check that a wrong setting stops the start (exit 2) with a line naming it, no traceback."""
    (tmp_path / "contraxis.yaml").write_text(text)
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as stopped:
        serve.serve_command(settings=tmp_path / "contraxis.yaml")
    assert stopped.value.code == 2 and started == []
    assert any(message in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]


def test_a_missing_settings_file_is_named(started, tmp_path, caplog):
    """Check that a settings file that does not exist stops the start, naming it."""
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit):
        serve.serve_command(settings=tmp_path / "nowhere.yaml")
    assert any("nowhere.yaml" in r.getMessage() for r in caplog.records)


def test_serve_key_prints_a_key_and_its_hash_only(capsys):
    """Check that serve-key prints the key once and a settings line with its SHA-256."""
    serve.api_key_command("ward 7", role=["clinician", "admin"])
    out = capsys.readouterr().out
    key = next(word for word in out.split() if word.startswith("cxk_"))
    assert hash_api_key(key) in out and "roles: [clinician, admin]" in out


def test_a_missing_jwk_set_file_stops_the_start(started, tmp_path, caplog):
    """Check that a CDS client whose JWK Set file does not exist stops the start, naming the file."""
    (tmp_path / "contraxis.yaml").write_text(
        f"cds_clients: [{{issuer: https://ehr.example.org, jwks_file: {tmp_path / 'gone.json'}}}]\n")
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit):
        serve.serve_command(settings=tmp_path / "contraxis.yaml")
    assert started == []
    assert any("gone.json" in r.getMessage() and "refusing to start" in r.getMessage() for r in caplog.records)


def test_an_audit_log_that_cannot_be_written_stops_the_start(started, tmp_path, caplog):
    """Check that an audit path under a file (not a folder) stops the start with one line."""
    (tmp_path / "not-a-folder").write_text("")
    os.environ["CONTRAXIS_AUDIT__PATH"] = str(tmp_path / "not-a-folder" / "audit.jsonl")
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit):
        serve.serve_command()
    assert started == []
    assert any("audit log cannot be opened" in r.getMessage() for r in caplog.records)
