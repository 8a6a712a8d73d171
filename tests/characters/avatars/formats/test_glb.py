"""The defensive GLB reader: every malformed container gets a specific code, never an exception
other than GlbError."""
from __future__ import annotations

import io
import json
import struct

import pytest

from characters.avatars.formats.glb import MAX_JSON_BYTES, FileSlice, GlbError, parse_glb
from tests.characters.avatars.support import GODETTE, ROBOT, SPHERE, build_glb, fixture_parts, minimal_gltf, modified


def parse(data: bytes):
    return parse_glb(io.BytesIO(data))


def code_of(data: bytes) -> str:
    with pytest.raises(GlbError) as info:
        parse(data)
    assert info.value.status == 400
    assert info.value.message
    assert info.value.details["hint"]
    return info.value.code


@pytest.mark.parametrize("path", [GODETTE, ROBOT, SPHERE])
def test_fixtures_parse(path):
    data = path.read_bytes()
    doc = parse(data)
    assert doc.file_size == len(data)
    assert doc.gltf["asset"]["version"] == "2.0"
    assert doc.bin_offset is not None and doc.bin_offset + doc.bin_length <= len(data)


def test_plain_gltf_parses():
    doc = parse(minimal_gltf())
    assert doc.array("meshes") and "extensions" not in doc.gltf


def test_truncated_file():
    data = GODETTE.read_bytes()
    assert code_of(data[: len(data) // 2]) == "glb_truncated"
    assert code_of(data[:5]) == "glb_truncated"
    assert code_of(b"") == "glb_truncated"


def test_wrong_magic():
    data = bytearray(SPHERE.read_bytes())
    data[:4] = b"gltf"
    assert code_of(bytes(data)) == "glb_bad_magic"
    assert code_of(b'{"asset": {"version": "2.0"}}') == "glb_bad_magic"


def test_wrong_container_version():
    data = bytearray(SPHERE.read_bytes())
    data[4:8] = struct.pack("<I", 1)
    assert code_of(bytes(data)) == "glb_unsupported_version"


def test_declared_length_longer_or_shorter_than_file():
    data = bytearray(SPHERE.read_bytes())
    data[8:12] = struct.pack("<I", len(data) + 100)
    assert code_of(bytes(data)) == "glb_truncated"
    data[8:12] = struct.pack("<I", len(data) - 4)
    assert code_of(bytes(data)) == "glb_bad_length"


def test_chunk_length_past_end_of_file():
    data = bytearray(SPHERE.read_bytes())
    data[12:16] = struct.pack("<I", len(data))  # JSON chunk claims the whole file and more
    assert code_of(bytes(data)) == "glb_bad_chunk"


def test_bin_chunk_length_past_end_of_file():
    gltf, bin_chunk = fixture_parts(SPHERE)
    data = bytearray(build_glb(gltf, bin_chunk))
    (json_len,) = struct.unpack("<I", data[12:16])
    bin_header = 20 + json_len
    data[bin_header : bin_header + 4] = struct.pack("<I", len(bin_chunk) + 1000)
    assert code_of(bytes(data)) == "glb_bad_chunk"


def test_first_chunk_not_json():
    data = bytearray(SPHERE.read_bytes())
    data[16:20] = b"BIN\0"
    assert code_of(bytes(data)) == "glb_bad_chunk"


def test_unaligned_json_chunk():
    body = b'{"asset":{"version":"2.0"}}'  # 27 bytes, not padded
    chunk = struct.pack("<I4s", len(body), b"JSON") + body + b" "
    data = struct.pack("<4sII", b"glTF", 2, 12 + len(chunk)) + chunk
    assert code_of(data) == "glb_bad_chunk"


def test_json_that_is_not_an_object():
    assert code_of(build_glb([1, 2, 3])) == "glb_json_invalid"
    assert code_of(build_glb("avatar")) == "glb_json_invalid"
    assert code_of(build_glb(None, raw_json=b"{not json")) == "glb_json_invalid"
    assert code_of(build_glb(None, raw_json=b"\xff\xfe{}  ")) == "glb_json_invalid"


def test_deeply_nested_json():
    deep = b"[" * 5000 + b"]" * 5000
    assert code_of(build_glb(None, raw_json=b'{"asset":{"version":"2.0"},"extras":' + deep + b"}")) == "glb_json_invalid"


def test_json_chunk_over_limit_is_refused_before_reading(tmp_path):
    # The header claims more JSON than allowed; the file has that many bytes but only the header is read.
    path = tmp_path / "big.glb"
    length = MAX_JSON_BYTES + 4
    with open(path, "wb") as fh:
        fh.write(struct.pack("<4sII", b"glTF", 2, 12 + 8 + length))
        fh.write(struct.pack("<I4s", length, b"JSON"))
        fh.truncate(12 + 8 + length)
    with open(path, "rb") as fh, pytest.raises(GlbError) as info:
        parse_glb(fh)
    assert info.value.code == "glb_json_too_large"


def test_missing_asset_and_gltf_1():
    assert code_of(build_glb({})) == "glb_json_invalid"
    assert code_of(build_glb({"asset": {"version": "1.0"}})) == "glb_unsupported_version"


def test_two_gigabyte_declared_buffer():
    data = modified(SPHERE, lambda g: g["buffers"][0].update(byteLength=2 * 1024**3))
    with pytest.raises(GlbError) as info:
        parse(data)
    assert info.value.code == "glb_out_of_bounds"
    assert info.value.details["declared"] == 2 * 1024**3


def test_buffer_without_bin_chunk():
    gltf, _bin = fixture_parts(SPHERE)
    assert code_of(build_glb(gltf)) == "glb_out_of_bounds"


def test_external_buffer_uri():
    assert code_of(modified(SPHERE, lambda g: g["buffers"][0].update(uri="http://example.com/x.bin"))) == "glb_external_buffer"


def test_buffer_view_outside_buffer():
    assert code_of(modified(SPHERE, lambda g: g["bufferViews"][0].update(byteOffset=10**9))) == "glb_out_of_bounds"
    assert code_of(modified(SPHERE, lambda g: g["bufferViews"][0].update(buffer=3))) == "glb_out_of_bounds"
    assert code_of(modified(SPHERE, lambda g: g["bufferViews"][0].update(byteLength=-1))) == "glb_out_of_bounds"
    assert code_of(modified(SPHERE, lambda g: g["bufferViews"][0].update(byteStride=3))) == "glb_out_of_bounds"


def test_accessor_reading_past_its_view():
    assert code_of(modified(SPHERE, lambda g: g["accessors"][0].update(count=10**6))) == "glb_out_of_bounds"
    assert code_of(modified(SPHERE, lambda g: g["accessors"][0].update(bufferView=999))) == "glb_out_of_bounds"


def test_accessor_count_that_would_explode_memory():
    assert code_of(modified(SPHERE, lambda g: g["accessors"][0].update(count=2**40))) == "glb_too_complex"


def test_accessor_invalid_type():
    assert code_of(modified(SPHERE, lambda g: g["accessors"][0].update(componentType=1))) == "glb_json_invalid"
    assert code_of(modified(SPHERE, lambda g: g["accessors"][0].update(count=0))) == "glb_json_invalid"


def test_sparse_accessor_out_of_bounds():
    def change(g):
        g["accessors"][0]["sparse"] = {
            "count": 1000,
            "indices": {"bufferView": 0, "componentType": 5125, "byteOffset": 23800},
            "values": {"bufferView": 0},
        }

    assert code_of(modified(SPHERE, change)) == "glb_out_of_bounds"


def test_too_many_nodes():
    assert code_of(modified(SPHERE, lambda g: g.update(nodes=[{}] * 20_001))) == "glb_too_complex"


def test_arrays_of_the_wrong_type():
    assert code_of(modified(SPHERE, lambda g: g.update(nodes={"a": 1}))) == "glb_json_invalid"
    assert code_of(modified(SPHERE, lambda g: g.update(meshes=[1, 2]))) == "glb_json_invalid"


def test_dangling_references():
    assert code_of(modified(SPHERE, lambda g: g["nodes"][0].update(mesh=99))) == "glb_out_of_bounds"
    assert code_of(modified(SPHERE, lambda g: g["nodes"][0].update(children=[1000]))) == "glb_out_of_bounds"
    assert code_of(modified(SPHERE, lambda g: g["skins"][0]["joints"].append(5000))) == "glb_out_of_bounds"
    assert code_of(modified(SPHERE, lambda g: g["meshes"][0]["primitives"][0].update(material=7))) == "glb_out_of_bounds"
    assert code_of(modified(SPHERE, lambda g: g["meshes"][0]["primitives"][0]["attributes"].update(POSITION=77))) == "glb_out_of_bounds"
    assert code_of(modified(SPHERE, lambda g: g["scenes"][0].update(nodes=[-1]))) == "glb_out_of_bounds"
    assert code_of(modified(GODETTE, lambda g: g["textures"][0].update(source=50))) == "glb_out_of_bounds"
    assert code_of(modified(GODETTE, lambda g: g["images"][0].update(bufferView=500))) == "glb_out_of_bounds"
    assert code_of(modified(SPHERE, lambda g: g["meshes"][0].update(primitives=[]))) == "glb_json_invalid"


def test_material_texture_reference():
    def change(g):
        g["materials"][0]["pbrMetallicRoughness"] = {"baseColorTexture": {"index": 42}}

    assert code_of(modified(SPHERE, change)) == "glb_out_of_bounds"


def test_boolean_is_not_an_index():
    assert code_of(modified(SPHERE, lambda g: g["nodes"][0].update(mesh=True))) == "glb_out_of_bounds"


def test_unknown_chunk_types_are_skipped():
    data = SPHERE.read_bytes()
    extra = struct.pack("<I4s", 4, b"XTRA") + b"abcd"
    patched = bytearray(data + extra)
    patched[8:12] = struct.pack("<I", len(patched))
    doc = parse(bytes(patched))
    assert doc.bin_length > 0


def test_json_padding_with_nul_bytes():
    body = json.dumps({"asset": {"version": "2.0"}}).encode()
    body += b"\0" * (-len(body) % 4 or 4)
    chunk = struct.pack("<I4s", len(body), b"JSON") + body
    doc = parse(struct.pack("<4sII", b"glTF", 2, 12 + len(chunk)) + chunk)
    assert doc.gltf["asset"]["version"] == "2.0"


def test_file_slice_is_bounded():
    fh = io.BytesIO(b"0123456789")
    window = FileSlice(fh, 2, 5)
    assert window.read() == b"23456"
    window.seek(-2, 2)
    assert window.read(10) == b"56"
    window.seek(100)
    assert window.read(1) == b""
    window.seek(1)
    assert window.read(2) == b"34"
