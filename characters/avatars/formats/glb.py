"""A defensive reader for the binary glTF container (GLB), working on a seekable file.

Why our own code: the avatar upload must never read a 200 MB file into memory, and every number
in an uploaded file is hostile until checked. pygltflib (`GLTF2.load_binary`) reads the whole
file into memory and trusts the lengths it finds, so it is not used on uploads.

What is checked here (the container and the glTF index graph; VRM semantics live in vrm_meta):
- header: magic `glTF`, version 2, declared total length equal to the real file size;
- chunks: the first is JSON, lengths are 4-byte aligned and inside the file, an optional BIN
  chunk follows, unknown chunk types are skipped (the spec allows them);
- JSON: at most MAX_JSON_BYTES, UTF-8, an object, bounded nesting, bounded array lengths;
- buffers: only the GLB-stored buffer 0 (no external URIs) and its declared byteLength must fit
  in the BIN chunk (a "2 GB buffer" in a 1 MB file is rejected before anything is allocated);
- bufferViews, accessors (including sparse), images, textures, materials, meshes, nodes, skins:
  every index points at something that exists and every byte range lies inside its parent.

Only the JSON chunk is read into memory; embedded images are reached through FileSlice, a
bounded, seekable window on the original file.
"""
from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import dataclass
from typing import IO, Any

from django.utils.translation import gettext as _

from avatarforge.errors import AppError

GLB_MAGIC = b"glTF"
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942
HEADER_SIZE = 12
CHUNK_HEADER_SIZE = 8

MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 64
# Array sizes far above any real avatar (Godette: 71 nodes, 45 accessors) that still keep the
# parsed JSON bounded. Each limit is checked before the array is walked.
MAX_COUNTS = {
    "nodes": 20_000,
    "meshes": 5_000,
    "accessors": 100_000,
    "bufferViews": 100_000,
    "buffers": 1,
    "images": 2_000,
    "textures": 2_000,
    "materials": 2_000,
    "skins": 1_000,
    "samplers": 2_000,
    "animations": 1_000,
    "scenes": 100,
    "cameras": 100,
}
MAX_PRIMITIVES_PER_MESH = 1_000
MAX_MORPH_TARGETS = 2_000
MAX_ACCESSOR_COUNT = 1 << 28

COMPONENT_SIZES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
TYPE_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}

REUPLOAD_HINT = "Export the avatar again from your tool (VRoid Studio, UniVRM, the Blender VRM add-on) and upload the new file."


class GlbError(AppError):
    """A file that is not a well-formed GLB. 400 with a specific code (glb_*)."""

    status = 400
    code = "glb_corrupt"


def _fail(code: str, message: str, **details: Any) -> GlbError:
    details["hint"] = _(REUPLOAD_HINT)
    return GlbError(message, code=code, details=details)


class FileSlice(io.RawIOBase):
    """A read-only, seekable window [offset, offset+length) of a seekable file.

    Lets Pillow read an embedded image's header (or the whole image, bounded by `length`) without
    copying the rest of the file. The caller keeps the underlying file open.
    """

    def __init__(self, fileobj: IO[bytes], offset: int, length: int) -> None:
        super().__init__()
        self._f = fileobj
        self._start = offset
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            new = pos
        elif whence == os.SEEK_CUR:
            new = self._pos + pos
        elif whence == os.SEEK_END:
            new = self._length + pos
        else:
            raise ValueError("bad whence")
        self._pos = max(0, min(new, self._length))
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._length - self._pos)
        if want <= 0:
            return 0
        self._f.seek(self._start + self._pos)
        data = self._f.read(want)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)


@dataclass
class GlbDocument:
    """A checked GLB: the parsed JSON and where the BIN chunk lies in the file."""

    gltf: dict[str, Any]
    file_size: int
    json_length: int
    bin_offset: int | None
    bin_length: int

    def array(self, name: str) -> list[Any]:
        value = self.gltf.get(name)
        return value if isinstance(value, list) else []

    def buffer_view_range(self, index: int) -> tuple[int, int]:
        """(absolute file offset, length) of a bufferView already checked by parse_glb."""
        view = self.array("bufferViews")[index]
        return self.bin_offset + int(view.get("byteOffset", 0)), int(view["byteLength"])  # type: ignore[operator]

    def open_buffer_view(self, fileobj: IO[bytes], index: int) -> FileSlice:
        offset, length = self.buffer_view_range(index)
        return FileSlice(fileobj, offset, length)


def _file_size(fileobj: IO[bytes]) -> int:
    fileobj.seek(0, os.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    return size


def _read_exact(fileobj: IO[bytes], offset: int, length: int, what: str) -> bytes:
    fileobj.seek(offset)
    data = fileobj.read(length)
    if len(data) != length:
        raise _fail("glb_truncated", _("The file ends early (while reading %(what)s): it is incomplete or damaged.") % {"what": what})
    return data


def _check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    # Iterative, so a hostile nesting cannot exhaust the Python stack.
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise _fail("glb_json_invalid", _("The glTF JSON is nested too deeply."))
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))


def parse_glb(fileobj: IO[bytes]) -> GlbDocument:
    """Check the container and the glTF index graph; return the document. Raises GlbError."""
    size = _file_size(fileobj)
    if size < HEADER_SIZE:
        raise _fail("glb_truncated", _("The file is too short to be a GLB/VRM file."), size=size)
    magic, version, declared = struct.unpack("<4sII", _read_exact(fileobj, 0, HEADER_SIZE, "the header"))
    if magic != GLB_MAGIC:
        raise _fail(
            "glb_bad_magic",
            _("This is not a binary glTF file (.vrm or .glb): it does not start with “glTF”. A .gltf text file or another format will not work."),
        )
    if version != 2:
        raise _fail(
            "glb_unsupported_version",
            _("This file uses GLB container version %(version)d; only glTF 2.0 (GLB version 2) is supported.") % {"version": version},
            found=version,
            supported=[2],
        )
    if declared != size:
        code = "glb_truncated" if declared > size else "glb_bad_length"
        raise _fail(
            code,
            _("The file says it is %(declared)d bytes long but it is %(size)d bytes: it was cut off or damaged in transfer.")
            % {"declared": declared, "size": size},
            declared=declared,
            size=size,
        )

    offset = HEADER_SIZE
    json_bytes: bytes | None = None
    json_length = 0
    bin_offset: int | None = None
    bin_length = 0
    index = 0
    while offset < size:
        if size - offset < CHUNK_HEADER_SIZE:
            raise _fail("glb_bad_chunk", _("The file has a broken chunk header at byte %(offset)d.") % {"offset": offset}, offset=offset)
        length, ctype = struct.unpack("<II", _read_exact(fileobj, offset, CHUNK_HEADER_SIZE, "a chunk header"))
        start = offset + CHUNK_HEADER_SIZE
        if length > size - start:
            raise _fail(
                "glb_bad_chunk",
                _("A chunk claims %(length)d bytes but only %(left)d remain in the file.") % {"length": length, "left": size - start},
                offset=offset,
                length=length,
            )
        if length % 4 and index == 0:
            raise _fail("glb_bad_chunk", _("The JSON chunk length is not a multiple of 4."), length=length)
        if index == 0:
            if ctype != CHUNK_JSON:
                raise _fail("glb_bad_chunk", _("The first chunk of the file must be JSON."))
            if length > MAX_JSON_BYTES:
                raise _fail(
                    "glb_json_too_large",
                    _("The glTF JSON is %(mb).1f MB; at most %(max)d MB is accepted.") % {"mb": length / 2**20, "max": MAX_JSON_BYTES // 2**20},
                    length=length,
                    max=MAX_JSON_BYTES,
                )
            json_bytes = _read_exact(fileobj, start, length, "the JSON chunk")
            json_length = length
        elif ctype == CHUNK_BIN:
            if bin_offset is not None or index != 1:
                raise _fail("glb_bad_chunk", _("The binary chunk must come once, right after the JSON chunk."))
            bin_offset, bin_length = start, length
        # Other chunk types are allowed by the spec and ignored.
        offset = start + length
        index += 1
    if json_bytes is None:
        raise _fail("glb_bad_chunk", _("The file has no JSON chunk."))

    try:
        text = json_bytes.decode("utf-8").rstrip(" \t\r\n\x00")
        gltf = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _fail("glb_json_invalid", _("The glTF JSON chunk is not valid UTF-8 JSON.")) from None
    if not isinstance(gltf, dict):
        raise _fail("glb_json_invalid", _("The glTF JSON must be an object."), found=type(gltf).__name__)
    _check_depth(gltf)

    doc = GlbDocument(gltf=gltf, file_size=size, json_length=json_length, bin_offset=bin_offset, bin_length=bin_length)
    _validate_graph(doc)
    return doc


def _is_index(value: Any, length: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < length


def _nonneg_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _bounds(message: str, **details: Any) -> GlbError:
    return _fail("glb_out_of_bounds", message, **details)


def _validate_graph(doc: GlbDocument) -> None:
    g = doc.gltf
    asset = g.get("asset")
    if not isinstance(asset, dict) or not isinstance(asset.get("version"), str):
        raise _fail("glb_json_invalid", _("The glTF JSON has no asset.version."))
    major = asset["version"].split(".")[0]
    if major != "2":
        raise _fail(
            "glb_unsupported_version",
            _("This is glTF %(version)s; only glTF 2.0 is supported.") % {"version": asset["version"][:16]},
            found=asset["version"][:16],
            supported=["2.0"],
        )
    for name, limit in MAX_COUNTS.items():
        value = g.get(name)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise _fail("glb_json_invalid", _("“%(name)s” must be a list of objects.") % {"name": name}, field=name)
        if len(value) > limit:
            raise _fail(
                "glb_too_complex",
                _("The file has %(n)d %(name)s; at most %(max)d are accepted.") % {"n": len(value), "name": name, "max": limit},
                field=name,
                count=len(value),
                max=limit,
            )

    buffers = doc.array("buffers")
    for i, buf in enumerate(buffers):
        if "uri" in buf:
            raise _fail(
                "glb_external_buffer",
                _("The file refers to an external buffer; an avatar must be a single self-contained .vrm/.glb file."),
                buffer=i,
            )
        length = buf.get("byteLength")
        if not _nonneg_int(length):
            raise _fail("glb_json_invalid", _("Buffer %(i)d has no valid byteLength.") % {"i": i}, buffer=i)
        if doc.bin_offset is None or length > doc.bin_length:
            raise _bounds(
                _("Buffer %(i)d declares %(length)d bytes but the file's binary chunk holds %(bin)d.")
                % {"i": i, "length": length, "bin": doc.bin_length},
                buffer=i,
                declared=length,
                available=doc.bin_length,
            )
    buffer_length = buffers[0]["byteLength"] if buffers else 0

    views = doc.array("bufferViews")
    for i, view in enumerate(views):
        off, length = view.get("byteOffset", 0), view.get("byteLength")
        if not _is_index(view.get("buffer"), len(buffers)):
            raise _bounds(_("bufferView %(i)d points at a buffer that does not exist.") % {"i": i}, bufferView=i)
        if not _nonneg_int(off) or not _nonneg_int(length) or off + length > buffer_length:
            raise _bounds(_("bufferView %(i)d lies outside its buffer.") % {"i": i}, bufferView=i)
        stride = view.get("byteStride")
        if stride is not None and (not _nonneg_int(stride) or not 4 <= stride <= 252 or stride % 4):
            raise _bounds(_("bufferView %(i)d has an invalid byteStride.") % {"i": i}, bufferView=i)

    accessors = doc.array("accessors")
    for i, acc in enumerate(accessors):
        ctype, atype, count = acc.get("componentType"), acc.get("type"), acc.get("count")
        if ctype not in COMPONENT_SIZES or atype not in TYPE_SIZES or not _nonneg_int(count) or count < 1:
            raise _fail("glb_json_invalid", _("Accessor %(i)d has an invalid type or count.") % {"i": i}, accessor=i)
        if count > MAX_ACCESSOR_COUNT:
            raise _fail("glb_too_complex", _("Accessor %(i)d declares too many elements.") % {"i": i}, accessor=i, count=count)
        element = COMPONENT_SIZES[ctype] * TYPE_SIZES[atype]
        if "bufferView" in acc:
            if not _is_index(acc["bufferView"], len(views)):
                raise _bounds(_("Accessor %(i)d points at a bufferView that does not exist.") % {"i": i}, accessor=i)
            view = views[acc["bufferView"]]
            off = acc.get("byteOffset", 0)
            stride = view.get("byteStride") or element
            if not _nonneg_int(off) or off + stride * (count - 1) + element > view["byteLength"]:
                raise _bounds(
                    _("Accessor %(i)d reads past the end of its bufferView (%(count)d elements).") % {"i": i, "count": count},
                    accessor=i,
                )
        sparse = acc.get("sparse")
        if sparse is not None:
            if not isinstance(sparse, dict) or not _nonneg_int(sparse.get("count")) or not 1 <= sparse["count"] <= count:
                raise _fail("glb_json_invalid", _("Accessor %(i)d has an invalid sparse section.") % {"i": i}, accessor=i)
            for part, size in (("indices", COMPONENT_SIZES.get((sparse.get("indices") or {}).get("componentType"), 0)), ("values", element)):
                section = sparse.get(part)
                if not isinstance(section, dict) or not size or not _is_index(section.get("bufferView"), len(views)):
                    raise _bounds(_("Accessor %(i)d has a sparse %(part)s outside the file.") % {"i": i, "part": part}, accessor=i)
                soff = section.get("byteOffset", 0)
                if not _nonneg_int(soff) or soff + size * sparse["count"] > views[section["bufferView"]]["byteLength"]:
                    raise _bounds(_("Accessor %(i)d has a sparse %(part)s outside the file.") % {"i": i, "part": part}, accessor=i)

    images = doc.array("images")
    for i, image in enumerate(images):
        if "bufferView" in image and not _is_index(image["bufferView"], len(views)):
            raise _bounds(_("Image %(i)d points at a bufferView that does not exist.") % {"i": i}, image=i)
    samplers = doc.array("samplers")
    for i, texture in enumerate(doc.array("textures")):
        if "source" in texture and not _is_index(texture["source"], len(images)):
            raise _bounds(_("Texture %(i)d points at an image that does not exist.") % {"i": i}, texture=i)
        if "sampler" in texture and not _is_index(texture["sampler"], len(samplers)):
            raise _bounds(_("Texture %(i)d points at a sampler that does not exist.") % {"i": i}, texture=i)

    textures_count = len(doc.array("textures"))
    for i, material in enumerate(doc.array("materials")):
        for ref in _texture_refs(material):
            if not _is_index(ref, textures_count):
                raise _bounds(_("Material %(i)d uses a texture that does not exist.") % {"i": i}, material=i)

    materials_count = len(doc.array("materials"))
    morph_total = 0
    for i, mesh in enumerate(doc.array("meshes")):
        prims = mesh.get("primitives")
        if not isinstance(prims, list) or not prims or not all(isinstance(p, dict) for p in prims):
            raise _fail("glb_json_invalid", _("Mesh %(i)d has no primitives.") % {"i": i}, mesh=i)
        if len(prims) > MAX_PRIMITIVES_PER_MESH:
            raise _fail("glb_too_complex", _("Mesh %(i)d has too many primitives.") % {"i": i}, mesh=i)
        for prim in prims:
            attrs = prim.get("attributes")
            if not isinstance(attrs, dict) or not all(_is_index(a, len(accessors)) for a in attrs.values()):
                raise _bounds(_("Mesh %(i)d uses an accessor that does not exist.") % {"i": i}, mesh=i)
            if "indices" in prim and not _is_index(prim["indices"], len(accessors)):
                raise _bounds(_("Mesh %(i)d uses an accessor that does not exist.") % {"i": i}, mesh=i)
            if "material" in prim and not _is_index(prim["material"], materials_count):
                raise _bounds(_("Mesh %(i)d uses a material that does not exist.") % {"i": i}, mesh=i)
            targets = prim.get("targets", [])
            if not isinstance(targets, list):
                raise _fail("glb_json_invalid", _("Mesh %(i)d has invalid morph targets.") % {"i": i}, mesh=i)
            morph_total += len(targets)
            if morph_total > MAX_MORPH_TARGETS * 10:
                raise _fail("glb_too_complex", _("The file has too many morph targets."))
            for target in targets:
                if not isinstance(target, dict) or not all(_is_index(a, len(accessors)) for a in target.values()):
                    raise _bounds(_("Mesh %(i)d has a morph target outside the file.") % {"i": i}, mesh=i)

    nodes = doc.array("nodes")
    meshes_count, skins_count = len(doc.array("meshes")), len(doc.array("skins"))
    for i, node in enumerate(nodes):
        if "mesh" in node and not _is_index(node["mesh"], meshes_count):
            raise _bounds(_("Node %(i)d uses a mesh that does not exist.") % {"i": i}, node=i)
        if "skin" in node and not _is_index(node["skin"], skins_count):
            raise _bounds(_("Node %(i)d uses a skin that does not exist.") % {"i": i}, node=i)
        children = node.get("children", [])
        if not isinstance(children, list) or not all(_is_index(c, len(nodes)) for c in children):
            raise _bounds(_("Node %(i)d has a child that does not exist.") % {"i": i}, node=i)
    for i, skin in enumerate(doc.array("skins")):
        joints = skin.get("joints")
        if not isinstance(joints, list) or not all(_is_index(j, len(nodes)) for j in joints):
            raise _bounds(_("Skin %(i)d uses a joint node that does not exist.") % {"i": i}, skin=i)
        if "inverseBindMatrices" in skin and not _is_index(skin["inverseBindMatrices"], len(accessors)):
            raise _bounds(_("Skin %(i)d uses an accessor that does not exist.") % {"i": i}, skin=i)
    for i, scene in enumerate(doc.array("scenes")):
        scene_nodes = scene.get("nodes", [])
        if not isinstance(scene_nodes, list) or not all(_is_index(n, len(nodes)) for n in scene_nodes):
            raise _bounds(_("Scene %(i)d uses a node that does not exist.") % {"i": i}, scene=i)


def _texture_refs(material: dict[str, Any]) -> list[Any]:
    """Texture indices a core glTF material uses (textureInfo objects)."""
    refs: list[Any] = []
    pbr = material.get("pbrMetallicRoughness")
    slots: list[Any] = []
    if isinstance(pbr, dict):
        slots += [pbr.get("baseColorTexture"), pbr.get("metallicRoughnessTexture")]
    slots += [material.get("normalTexture"), material.get("occlusionTexture"), material.get("emissiveTexture")]
    for slot in slots:
        if isinstance(slot, dict) and "index" in slot:
            refs.append(slot["index"])
    return refs
