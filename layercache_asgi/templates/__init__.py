"""Prompt templates: named, versioned L0/L1 content and default enhancements, picked with ``lc_template``."""

from __future__ import annotations

from ._files import TemplateFileError, dump_templates, parse_templates, read_folder
from ._model import Template, TemplateSpec
from ._registry import ImportReport, TemplateRegistry
from ._start import start_templates

__all__ = [
    "ImportReport",
    "Template",
    "TemplateFileError",
    "TemplateRegistry",
    "TemplateSpec",
    "dump_templates",
    "parse_templates",
    "read_folder",
    "start_templates",
]
