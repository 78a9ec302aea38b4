"""The scoring server's parts in process: settings, request limits, frames, logs, keys."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from amlhandson.core.webservice._keys import KeyFile, read_keys, write_keys
from amlhandson.core.webservice._limits import BadRequest, parse_json, precheck
from amlhandson.core.webservice._logs import LineRelay, LogWriter
from amlhandson.core.webservice._protocol import FrameParser, ProtocolError, pack, read_frame
from amlhandson.core.webservice._scoring import ScoreHandler
from amlhandson.core.webservice._settings import ServerSettings


def test_settings_defaults_and_bounds() -> None:
    s = ServerSettings.from_dict({"entry_script": "score.py", "unknown": 1})
    assert (s.workers, s.max_workers, s.scoring_timeout_ms, s.init_timeout_s) == (2, 4, 60000, 300)
    hostile = ServerSettings.from_dict({"entry_script": "s.py", "max_connections": 10**9,
                                        "request_timeout_s": 0, "max_request_body_bytes": -5,
                                        "workers": 9, "max_workers": 1})
    assert hostile.max_connections == 100_000 and hostile.request_timeout_s == 0.5
    assert hostile.max_request_body_bytes == 1024 and hostile.max_workers == 9
    assert ServerSettings.from_dict(s.to_dict()) == s


@pytest.mark.parametrize("body, expected", [
    ('{"data": ' + "7" * 5000 + "}", "整数が長すぎます"),
    ('{"data": [-1E+400]}', "有限の数"),
    ('[' * 101 + ']' * 101, "入れ子が深すぎます"),
    ('{"a": Infinity}', "Infinity"),
    ('{"a": [1, 2', "正しい JSON ではありません"),
])
def test_bad_json_is_a_bad_request(body: str, expected: str) -> None:
    with pytest.raises(BadRequest, match=expected):
        parse_json(body)


def test_precheck_only_looks_closer_when_needed() -> None:
    precheck('{"data": [[0.0, 0.5, 1e-05]], "note": "[not nested]"}')
    precheck("[" * 100 + "]" * 100)
    precheck('{"text": "NaN is a word here"}')  # parsed, and fine: it is inside a string
    for body in ('{"x": NaN}', '{"x": 1e999}', "[" * 101 + "]" * 101):
        with pytest.raises(BadRequest):
            precheck(body)


@pytest.mark.parametrize("body", [
    b'{"x": 1e999}', b'{"x": [0.5, 1E+999]}', b'[-1e0400]', b'{"a": [Infinity]}',
    b'{"a": -Infinity}', b'[NaN, 1]', b"[" * 101 + b"]" * 101, b"{" + b'"k":{' * 100 + b"}" * 101,
])
def test_precheck_on_raw_bytes_catches_what_parse_json_refuses(body: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_json(body.decode())
    with pytest.raises(BadRequest):
        precheck(body)


@pytest.mark.parametrize("body", [
    b'{"data": [[1e-05, 2.5E+300, -3e-300, 0.011764705882352941]]}',  # finite exponents
    '{"s": "ü N a N, e999 {{{{"}'.encode(),  # looks odd once blanks are gone; it is fine
    b"[" * 100 + b"]" * 100, b"[" + b"9" * 4000 + b"]",
])
def test_precheck_on_raw_bytes_lets_good_bodies_through(body: bytes) -> None:
    precheck(body)


def test_precheck_of_bytes_that_are_not_utf8_raises_nothing_but_bad_request() -> None:
    precheck(b'{"s": "\xff NaN"}')  # looked at closely (NaN), parsed with U+FFFD: fine
    with pytest.raises(BadRequest):
        precheck(b'{"s": "\xff", "x": NaN}')


def test_precheck_counts_integer_digits_only_when_the_limit_is_lower() -> None:
    precheck(b"[" + b"1" * 40 + b"]", max_int_digits=40)
    precheck(b"[" + b"1" * 39 + b", 1.5e-10]", max_int_digits=40)
    with pytest.raises(BadRequest, match="整数が長すぎます"):
        precheck(b"[" + b"1" * 41 + b"]", max_int_digits=40)


def test_handler_explains_json_that_run_could_not_parse() -> None:
    handler = ScoreHandler("svc")
    handler.load(lambda raw: json.loads(raw)["data"])
    status, _, body = handler.handle("POST", b'{"data": [1,')
    assert status == 400 and "行 1" in json.loads(body)["message"]
    status, _, body = handler.handle("POST", b'{"data": ' + b"1" * 9000 + b"}")
    assert status == 400 and "整数が長すぎます" in json.loads(body)["message"]
    status, _, body = handler.handle("POST", b'{"other": 1}')  # valid JSON: run()'s own error
    assert status == 500 and body.startswith(b"KeyError")


def test_frames_round_trip_and_garbage_is_refused() -> None:
    frames = [({"op": "score", "id": 7, "method": "POST"}, b'{"data": [1]}'),
              ({"op": "reply", "id": 7, "status": 200,
                "headers": [("Content-Type", "application/json")]}, b"[1]"),
              ({"op": "score", "id": 8, "method": "GET", "query": {"k": "v"}}, b""),
              ({"op": "ready", "swagger": {"a": [1, 2]}}, b"")]
    stream = b"".join(pack(meta, body) for meta, body in frames)
    parser = FrameParser()
    got = []
    for i in range(0, len(stream), 5):  # in small pieces
        got += parser.feed(stream[i:i + 5])
    assert got == frames
    assert read_frame(io.BytesIO(stream)) == frames[0]
    with pytest.raises(ProtocolError):
        FrameParser().feed(b"\x00\xff\xff\xff\xff\x00\x00\x00\x00" + b"x" * 20)
    with pytest.raises(ProtocolError):
        FrameParser().feed(b"\x00\x00\x00\x00\x03\x00\x00\x00\x00abc")
    with pytest.raises(ProtocolError, match="inside a frame"):
        read_frame(io.BytesIO(stream[:10]))


def test_log_writer_rotates_by_copy_and_truncate(tmp_path: Path) -> None:
    path = tmp_path / "service.log"
    with open(path, "ab") as stream:
        writer = LogWriter(stream, path=path, max_bytes=64 * 1024, backups=2, max_line=100)
        for i in range(3000):
            writer.write_line(f"line {i} " + "z" * 80)
        writer.write_line("x" * 10_000)
    assert path.stat().st_size <= 64 * 1024
    assert {p.name for p in tmp_path.iterdir()} == {"service.log", "service.log.1",
                                                    "service.log.2"}
    last = path.read_text().splitlines()
    assert last[-1].endswith("[9900 bytes cut]") and len(last[-1]) < 130
    assert last[-2].startswith("line 2999 ")


def test_line_relay_never_writes_a_huge_line() -> None:
    writer = LogWriter(io.BytesIO(), max_line=50)
    relay = LineRelay(writer)
    for _ in range(100):
        relay.feed(b"y" * 10_000)
    relay.feed(b"\nshort\n")
    relay.close()
    lines = writer.stream.getvalue().decode().splitlines()
    assert lines == ["y" * 50, "... [999950 more bytes of that line cut]", "short"]


def test_keys_file_is_private_and_follows_changes(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        write_keys(path, ("first-key-aaaa", "second-key-bbbb"))
    finally:
        os.umask(old_umask)
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys = KeyFile(path)
    assert keys.check("Bearer first-key-aaaa") and keys.check(b"bearer second-key-bbbb")
    assert not keys.check("Bearer first-key-aaa") and not keys.check("first-key-aaaa")
    write_keys(path, ("new-key-cccc", "second-key-bbbb"))
    assert keys.check("Bearer new-key-cccc") and not keys.check("Bearer first-key-aaaa")
    path.write_text("{damaged")
    assert keys.check("Bearer new-key-cccc")  # a damaged file keeps the last good keys
    assert read_keys(path) is None
