"""Request parameters checked and converted against the bundled Bot API spec (api.json).

Every value arrives as text (query string, form field or top-level JSON value, as the real
server flattens them) or as an uploaded file. Each known parameter is converted to its
declared type; unknown parameters are ignored, as Telegram does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sandbox.errors import bad_request

_INTEGER = re.compile(r"^[+-]?\d{1,19}$")
_DISCRIMINATOR = re.compile(r"(?:must be|always) \*?\"?([a-z_]+)")

# How Telegram words a missing required parameter, where it has its own wording.
_MISSING = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "message_id": "message identifier is not specified",
    "callback_query_id": "query is too old and response timeout expired or query ID is invalid",
    "action": "wrong parameter action in request",
    "file_id": "invalid file_id",
}
# Labels used in "can't parse <label> JSON object" for parameters that hold JSON.
_LABELS = {"reply_markup": "reply keyboard markup"}


@dataclass
class Upload:
    """A file part of a multipart/form-data request."""

    field: str
    filename: str
    content_type: str
    data: bytes


class _JsonError(Exception):
    """A nested JSON value that does not fit its declared type."""


def _label(type_name: str) -> str:
    """InlineKeyboardButton -> 'inline keyboard button', as Telegram names objects."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type_name).lower()


class Spec:
    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data["version"]
        self.methods: dict[str, dict[str, Any]] = {
            name.lower(): method for name, method in data["methods"].items()
        }
        self.types: dict[str, dict[str, Any]] = data["types"]
        self._subtype_by_tag = {
            name: self._discriminators(spec)
            for name, spec in self.types.items()
            if spec.get("subtypes")
        }

    @classmethod
    @cache
    def bundled(cls) -> Spec:
        text = resources.files("sandbox").joinpath("api.json").read_text(encoding="utf-8")
        return cls(json.loads(text))

    def method(self, name: str) -> dict[str, Any] | None:
        """The method's spec; method names are case-insensitive, as in the Bot API."""
        return self.methods.get(name.lower())

    def _discriminators(self, spec: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The field naming a subtype ("type", "status", ...) and its value per subtype."""
        key, tags = "", {}
        for subtype in (s for s in spec["subtypes"] if s in self.types):
            for field in self.types[subtype].get("fields", []):
                match = _DISCRIMINATOR.search(field["description"])
                if field["name"] in ("type", "source", "status") and match:
                    key, tags[match.group(1)] = field["name"], subtype
        return key, tags

    # ------------------------------------------------------------ top-level parameters

    def coerce(
        self, method: str, raw: dict[str, str], uploads: dict[str, Upload]
    ) -> dict[str, Any]:
        """Check and convert the parameters of `method`; raise ApiError(400) when they are bad."""
        spec = self.method(method)
        assert spec is not None
        params: dict[str, Any] = {}
        for field in spec.get("fields", []):
            name = field["name"]
            value: str | Upload | None = uploads.get(name) or raw.get(name)
            if value is None or value == "":
                if field["required"]:
                    raise bad_request(self._missing(name, field["types"]))
                continue
            params[name] = self._coerce_param(name, field["types"], value, uploads)
        return params

    @staticmethod
    def _missing(name: str, types: list[str]) -> str:
        if name in _MISSING:
            return _MISSING[name]
        if "InputFile" in types:
            return f"there is no {name} in the request"
        return f'parameter "{name}" is required'

    def _coerce_param(
        self, name: str, types: list[str], value: str | Upload, uploads: dict[str, Upload]
    ) -> Any:
        if isinstance(value, Upload):
            if "InputFile" in types:
                return value
            raise bad_request(f'parameter "{name}" must be of type {" or ".join(types)}')
        if value.startswith("attach://") and "InputFile" in types:
            attached = uploads.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"there is no {name} in the request")
            return attached
        for kind in (k for k in types if k in _SCALARS):
            converted = self._from_text(kind, value)
            if converted is not None:
                return converted
        json_kinds = [k for k in types if k not in _SCALARS]
        if json_kinds:
            return self._json_param(name, json_kinds, value)
        if types == ["InputFile"]:
            raise bad_request(f"there is no {name} in the request")
        raise bad_request(f'parameter "{name}" must be of type {" or ".join(types)}')

    @staticmethod
    def _from_text(kind: str, value: str) -> Any:
        """The value converted to a scalar `kind`, or None when it is not of that kind."""
        if kind == "String":
            return value
        if kind == "Integer":
            return int(value) if _INTEGER.match(value.strip()) else None
        if kind == "Float":
            try:
                return float(value)
            except ValueError:
                return None
        if kind == "Boolean":
            return {"true": True, "1": True, "false": False, "0": False}.get(value.lower())
        return None  # InputFile: only an upload or attach:// will do

    def _json_param(self, name: str, kinds: list[str], value: str) -> Any:
        label = _LABELS.get(name, name.replace("_", " "))
        try:
            decoded = json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {label} JSON object") from None
        kind = self._pick_kind(decoded, kinds)
        if kind is None:
            raise bad_request(f"can't parse {label} JSON object")
        try:
            return self.check_json(decoded, [kind], name)
        except _JsonError as error:
            raise bad_request(str(error)) from None

    def _pick_kind(self, decoded: Any, kinds: list[str]) -> str | None:
        """The alternative a JSON value is meant as (reply_markup: by its required fields)."""
        if isinstance(decoded, list):
            return next((k for k in kinds if k.startswith("Array of ")), None)
        objects = [k for k in kinds if not k.startswith("Array of ")]
        if not isinstance(decoded, dict) or not objects:
            return None
        fitting = [k for k in objects if self._required_present(k, decoded)]
        if fitting:
            return fitting[0]
        return objects[0] if len(objects) == 1 else None

    def _required_present(self, kind: str, value: dict[str, Any]) -> bool:
        fields = self.types.get(kind, {}).get("fields", [])
        return all(f["name"] in value for f in fields if f["required"])

    # ------------------------------------------------------------ JSON values

    def check_json(self, value: Any, types: list[str], name: str) -> Any:
        """Check a decoded JSON value against alternatives such as ['Array of MessageEntity']."""
        if len(types) == 1:
            return self._check_kind(value, types[0], name)
        for kind in types:
            try:
                return self._check_kind(value, kind, name)
            except _JsonError:
                continue
        raise _JsonError(f'Field "{name}" must be of type {" or ".join(types)}')

    def _check_kind(self, value: Any, kind: str, name: str) -> Any:
        if kind.startswith("Array of "):
            if not isinstance(value, list):
                raise _JsonError(f'Field "{name}" must be of type Array')
            item_kind = kind.removeprefix("Array of ")
            return [self.check_json(item, [item_kind], name) for item in value]
        scalar = self._check_scalar(value, kind)
        if scalar is not _NOT_SCALAR:
            if scalar is _MISMATCH:
                raise _JsonError(f'Field "{name}" must be of type {kind}')
            return scalar
        if isinstance(value, str) and kind in _STRING_OK:
            return {"text": value}
        if not isinstance(value, dict):
            plain = [
                s for s in self.types.get(kind, {}).get("subtypes", []) if s not in self.types
            ]
            if plain:  # e.g. RichText: a String, an Array of RichText or an object
                return self.check_json(value, plain, name)
            raise _JsonError(f'Field "{name}" must be of type Object')
        return self._check_object(value, kind)

    @staticmethod
    def _check_scalar(value: Any, kind: str) -> Any:
        if kind in ("String", "InputFile"):
            return value if isinstance(value, str) else _MISMATCH
        if kind == "Integer":
            if isinstance(value, str) and _INTEGER.match(value):
                return int(value)
            ok = isinstance(value, int) and not isinstance(value, bool)
            return value if ok else _MISMATCH
        if kind == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return value if ok else _MISMATCH
        if kind == "Boolean":
            return value if isinstance(value, bool) else _MISMATCH
        return _NOT_SCALAR

    def _check_object(self, value: dict[str, Any], kind: str, label: str = "") -> dict[str, Any]:
        spec = self.types.get(kind)
        if spec is None:
            return value  # a type the spec does not describe: accept as is
        label = label or _label(kind)
        if spec.get("subtypes"):
            return self._check_object(value, self._subtype(value, kind), label)
        try:
            for field in spec.get("fields", []):
                item = value.get(field["name"])
                if item is None:
                    if field["required"]:
                        raise _JsonError(f'Can\'t find field "{field["name"]}"')
                    continue
                value[field["name"]] = self.check_json(item, field["types"], field["name"])
        except _JsonError as error:
            if str(error).startswith("can't parse"):
                raise
            raise _JsonError(f"can't parse {label}: {error}") from None
        return value

    def _subtype(self, value: dict[str, Any], kind: str) -> str:
        key, tags = self._subtype_by_tag[kind]
        if key and key in value:
            if value[key] in tags:
                return tags[value[key]]
            raise _JsonError(f"can't parse {_label(kind)}: unsupported {key} specified")
        for subtype in (s for s in self.types[kind]["subtypes"] if s in self.types):
            if self._required_present(subtype, value):
                return subtype
        raise _JsonError(f"can't parse {_label(kind)}: unsupported type specified")


_NOT_SCALAR = object()
_STRING_OK = {"KeyboardButton"}  # Telegram takes a bare string as a text button
_SCALARS = {"String", "Integer", "Float", "Boolean", "InputFile"}
_MISMATCH = object()
