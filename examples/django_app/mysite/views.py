"""The project's own pages: they know nothing about the proxy."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

ITEMS = [{"id": 1, "name": "widget"}, {"id": 2, "name": "gear"}]


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<h1>My site</h1><p>The LLM proxy lives under <a href='llm/health'>/llm/</a>.</p>")


def items(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"items": ITEMS, "script_name": request.META.get("SCRIPT_NAME", "")})
