"""Every error the project raises shares one root, and keeps the builtin base callers already catch."""

from __future__ import annotations

from pathlib import Path

import pytest

import layercache_asgi
from layercache_asgi import ConfigError, LayerCacheError, ProxyError, SchemaError, load_settings
from layercache_asgi._disconnect import ClientDisconnected
from layercache_asgi.db._migrate import SchemaError as MigrateSchemaError
from layercache_asgi.semantic._embedder import EmbedderUnavailable
from layercache_asgi.templates._files import TemplateFileError, parse_templates
from layercache_asgi.upstream._attempt import UpstreamError

# (error, the builtin base it has always had and that existing callers may catch)
_ERRORS: list[tuple[type[Exception], type[Exception]]] = [
    (ProxyError, Exception),
    (UpstreamError, Exception),
    (ConfigError, ValueError),
    (SchemaError, RuntimeError),
    (EmbedderUnavailable, RuntimeError),
    (TemplateFileError, ValueError),
    (ClientDisconnected, Exception),
]


@pytest.mark.parametrize(("error", "builtin"), _ERRORS, ids=lambda e: e.__name__)
def test_each_error_is_a_layercache_error_and_keeps_its_builtin_base(
    error: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(error, LayerCacheError)
    assert issubclass(error, builtin)


def test_root_and_schema_error_are_public() -> None:
    assert "LayerCacheError" in layercache_asgi.__all__
    assert "SchemaError" in layercache_asgi.__all__
    # The database module raises the very class the package exports, so hosts can catch it.
    assert MigrateSchemaError is SchemaError


def test_catching_the_root_catches_a_bad_config_file(tmp_path: Path) -> None:
    config = tmp_path / "layercache.yaml"
    config.write_text("upstream: [not, a, mapping\n")
    with pytest.raises(LayerCacheError) as caught:
        load_settings(config)
    assert isinstance(caught.value, ConfigError)


def test_catching_the_root_catches_a_bad_template_document() -> None:
    with pytest.raises(LayerCacheError) as caught:
        parse_templates("templates: [unclosed", source="bad.yaml")
    assert isinstance(caught.value, TemplateFileError)
    assert "bad.yaml" in str(caught.value)
