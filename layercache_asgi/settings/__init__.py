"""Settings sections that belong to one feature, kept beside the root model in ``_config``.

Import them from :mod:`layercache_asgi` (or ``layercache_asgi._config``); these modules only
split a long file and depend on nothing but pydantic.
"""
