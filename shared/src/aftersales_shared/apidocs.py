"""API documentation pages that work without internet: Swagger UI's files are served by the service
itself from the `swagger-ui-py` package (Swagger UI 5, which renders OpenAPI 3.1), never from a CDN
— factories in China often have none. `/schema` (also `/schema/swagger`) is the page,
`/schema/assets/*` its files, `/schema/openapi.json` the document."""

from __future__ import annotations

import errno
import importlib.util
from pathlib import Path
from typing import Any

from litestar.file_system import BaseLocalFileSystem
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

ASSETS = "/schema/assets"


def swagger_static_dir() -> Path:
    """The package's static folder, found without importing the package (it would import its
    web-framework glue)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (uv sync): the API docs need its files")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def docs_plugin() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
    )


class _AssetFiles(BaseLocalFileSystem):
    """The package's files; a name the file system cannot even hold (over NAME_MAX, not a folder) is
    a file that is not there (404), not a server error (Litestar answers 500 for any OSError but
    FileNotFoundError)."""

    async def info(self, path: Any, **kwargs: Any) -> Any:
        try:
            return await super().info(path, **kwargs)
        except OSError as exc:
            if exc.errno in (errno.ENAMETOOLONG, errno.ENOTDIR):
                raise FileNotFoundError(str(path)) from exc
            raise


def assets_router():  # type: ignore[no-untyped-def]
    return create_static_files_router(
        file_system=_AssetFiles(),
        path=ASSETS,
        directories=[swagger_static_dir()],
        include_in_schema=False,
        name="api-docs-assets",
    )
