"""Prompt templates: the API, YAML/JSON import and export, the folder, and lc_template through both SDKs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
import yaml
from starlette.middleware import Middleware

from layercache_asgi import Settings
from layercache_asgi._exchange import Exchange, get_exchange
from layercache_asgi.prompt._layers import strip_markers
from layercache_asgi.stages import DEFAULT_STAGES, ApplyTemplate, Enhance, Stratify
from layercache_asgi.testing import FakeProvider, in_process
from layercache_asgi.types import ASGIApp, Receive, Scope, Send

from .conftest import ADMIN, ADMIN_KEY, async_anthropic, async_openai, client_with

pytestmark = [pytest.mark.postgres, pytest.mark.in_process]

BYPASS = {"lc_bypass_cache": True}
QUERY_SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
SUPPORT: dict[str, Any] = {
    "name": "support",
    "description": "Customer support persona",
    "system": "You are Acme's support assistant. Answer briefly.",
    "context": "Acme sells anvils. Returns are accepted within 30 days.",
    "tools": [
        # Anthropic form and OpenAI form may be mixed; each request gets its own wire's form.
        {"name": "lookup_order", "description": "Find an order", "input_schema": {"type": "object"}},
        {
            "type": "function",
            "function": {"name": "search", "description": "template search", "parameters": QUERY_SCHEMA},
        },
    ],
    "enhancements": ["chain_of_thought", {"name": "self_critique", "options": {"text": "Check it twice."}}],
}


def _templates_api(http: httpx.AsyncClient, **headers: str) -> httpx.AsyncClient:
    """The template API with the admin key, unless ``headers`` say otherwise."""
    return client_with(http, "/v1/prompts", headers or ADMIN)


async def _create(http: httpx.AsyncClient, template: dict[str, Any]) -> dict[str, Any]:
    response = await _templates_api(http).post("/templates", json=template)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _texts(message_or_blocks: Any) -> Any:
    return strip_markers(message_or_blocks)


def _question_and_enhancements(messages: list[dict[str, Any]]) -> tuple[str, int]:
    """The newest user text, and how many enhancement blocks the Enhance stage put before it (L3)."""
    (last,) = [m for m in messages if m["role"] == "user"][-1:]
    content = last["content"]
    if isinstance(content, str):  # OpenAI string content stays a string: paragraphs before the question
        paragraphs = content.split("\n\n")
        return paragraphs[-1], len(paragraphs) - 1
    texts = [b["text"] for b in content if b.get("type") == "text"]
    return texts[-1], len(texts) - 1


# -- lc_template through the SDKs -------------------------------------------------------------


async def test_openai_request_gets_the_templates_system_context_and_tools(
    http: httpx.AsyncClient, fake: FakeProvider
) -> None:
    await _create(http, SUPPORT)
    client = async_openai(http, api_key="sk-template-test")
    client_search = {"type": "function", "function": {"name": "search", "description": "mine", "parameters": {}}}
    response = await client.chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=[
            {"role": "system", "content": "Reply in French."},
            {"role": "user", "content": "Where is order 42?"},
        ],
        tools=[client_search],  # type: ignore[list-item]
        extra_body={"lc_template": "support", **BYPASS},
    )
    assert response.headers["x-layercache-template"] == "support@1"
    sent = fake.requests[-1].body
    assert [(m["role"], m["content"]) for m in sent["messages"][:3]] == [
        ("system", SUPPORT["system"]),
        ("system", "Reply in French."),
        ("system", SUPPORT["context"]),
    ]
    assert _question_and_enhancements(sent["messages"]) == ("Where is order 42?", 2)  # the template's two defaults
    tools = {t["function"]["name"]: t["function"] for t in sent["tools"]}
    assert set(tools) == {"search", "lookup_order"}
    assert tools["search"]["description"] == "mine"  # the client's own tool wins a name clash
    assert tools["lookup_order"]["parameters"] == {"type": "object"}  # converted to OpenAI's form
    assert not any(key.startswith("lc_") for key in sent)


async def test_anthropic_request_gets_system_blocks_and_tools(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    await _create(http, SUPPORT)
    client = async_anthropic(http, api_key="sk-ant-template-test")
    message = await client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=64,
        system="Reply in French.",
        messages=[{"role": "user", "content": "Where is order 42?"}],
        extra_body={"lc_template": "support", **BYPASS},
    )
    assert message.content
    sent = fake.requests[-1].body
    assert [b["text"] for b in _texts(sent["system"])] == [SUPPORT["system"], "Reply in French.", SUPPORT["context"]]
    tools = {t["name"]: t for t in _texts(sent["tools"])}
    assert set(tools) == {"lookup_order", "search"}
    assert tools["search"]["input_schema"] == QUERY_SCHEMA  # an OpenAI-form template tool, converted
    assert tools["search"]["description"] == "template search"
    assert _question_and_enhancements(sent["messages"]) == ("Where is order 42?", 2)


async def test_an_unknown_template_is_a_404_in_the_clients_format(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    oai = async_openai(http, api_key="sk-template-test")
    with pytest.raises(openai.NotFoundError) as oai_error:
        await oai.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_body={"lc_template": "nope"}
        )
    assert oai_error.value.body["type"] == "not_found_error"  # type: ignore[index]
    assert "nope" in oai_error.value.message

    ant = async_anthropic(http, api_key="sk-ant-template-test")
    with pytest.raises(anthropic.NotFoundError) as ant_error:
        await ant.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=16,
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"lc_template": "nope@3"},
        )
    assert ant_error.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert fake.requests == []


class _Recorder:
    """A stage that keeps what the stages before it made of each request."""

    def __init__(self, app: ASGIApp, *, into: list[Exchange]) -> None:
        self.app = app
        self.into = into

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is not None:
            self.into.append(exchange)
        await self.app(scope, receive, send)


async def test_template_content_is_layered_and_default_enhancements_added(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    seen: list[Exchange] = []
    async with in_process(
        fake, make_settings(), stages=[ApplyTemplate, Stratify, Middleware(_Recorder, into=seen)]
    ) as http:
        await _create(http, SUPPORT)
        client = async_openai(http, api_key="sk-template-test")
        await client.chat.completions.create(
            model="gpt-4o",
            messages=[
                {"role": "user", "content": "Background: my account is 7."},
                {"role": "assistant", "content": "Noted."},
                {"role": "user", "content": "Where is order 42?"},
            ],
            extra_body={
                "lc_template": "support",
                "lc_layer_hints": {"0": "L1"},  # the client's index 0, before the template moved it
                "lc_enhancements": [{"name": "self_critique", "options": {"text": "Check it thrice."}}],
            },
        )
    (exchange,) = seen
    assert exchange.layers is not None
    # [template system, template context, client's 0 (hinted L1), assistant, newest user]
    assert exchange.layers.message_layers == (0, 1, 1, 2, 4)
    assert exchange.template == "support@1"
    enhancements = [(e.name, e.options) for e in exchange.request.ext.lc_enhancements]
    assert enhancements == [
        ("chain_of_thought", {}),
        ("self_critique", {"text": "Check it thrice."}),
    ]  # the client's options win


async def test_anthropic_template_context_is_l1_inside_the_cached_prefix(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    seen: list[Exchange] = []
    stages = [ApplyTemplate, Stratify, Enhance, Middleware(_Recorder, into=seen)]
    async with in_process(fake, make_settings(), stages=stages) as http:
        await _create(http, SUPPORT)
        client = async_anthropic(http, api_key="sk-ant-template-test")
        await client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=64,
            system="Reply in French.",
            messages=[{"role": "user", "content": "Where is order 42?"}],
            extra_body={"lc_template": "support"},
        )
    (exchange,) = seen
    assert exchange.layers is not None
    system = {p.path: p.layer for p in exchange.layers.parts if p.path.startswith("system")}
    # [template system, the client's system, template context]: the context is L1, and it stays
    # so after Enhance re-stratified the body for the template's default enhancements.
    assert exchange.layers.enhancements  # Enhance ran
    assert system == {"system[0]": 0, "system[1]": 0, "system[2]": 1}
    assert exchange.layers.boundary(1) == len([p for p in exchange.layers.parts if p.layer <= 1])


# -- the management API -----------------------------------------------------------------------


async def test_create_version_show_pin_and_delete(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    api = _templates_api(http)
    first = await api.post("/templates", json=SUPPORT)
    assert first.status_code == 201 and first.json()["version"] == 1 and first.json()["created"] is True
    same = await api.post("/templates", json=SUPPORT)
    assert same.status_code == 200 and same.json()["version"] == 1 and same.json()["created"] is False
    second = await api.post("/templates", json={**SUPPORT, "system": "You are Acme's new assistant."})
    assert second.status_code == 201 and second.json()["version"] == 2

    listed = (await api.get("/templates")).json()
    assert [(t["name"], t["version"]) for t in listed["data"]] == [("support", 2)]
    assert listed["persistent"] is True
    shown = (await api.get("/templates/support", params={"version": 1})).json()
    assert shown["system"] == SUPPORT["system"] and shown["versions"] == [1, 2]

    client = async_openai(http, api_key="sk-template-test")

    async def system_sent(reference: str) -> str:
        await client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"lc_template": reference, **BYPASS},
        )
        return str(fake.requests[-1].body["messages"][0]["content"])

    assert await system_sent("support") == "You are Acme's new assistant."
    assert await system_sent("support@1") == SUPPORT["system"]

    deleted = await api.delete("/templates/support")
    assert deleted.status_code == 200 and deleted.json()["deleted_versions"] == 2
    assert (await api.delete("/templates/support")).status_code == 404
    assert (await api.get("/templates/support")).status_code == 404
    with pytest.raises(openai.NotFoundError):
        await system_sent("support")  # the deletion reached the in-memory cache at once


async def test_a_change_is_seen_by_the_next_request(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = async_openai(http, api_key="sk-template-test")
    for n in range(3):
        await _create(http, {"name": "greeter", "system": f"Greeting style {n}."})
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_body={"lc_template": "greeter"}
        )
        assert fake.requests[-1].body["messages"][0]["content"] == f"Greeting style {n}."


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "bad/name"}, "name"),
        ({"name": "ok", "sytem": "typo"}, "sytem"),
        ({"name": "ok", "tools": [{"description": "no name"}]}, "tools[0] needs a name"),
        ({"system": "no name"}, "name"),
        ([{"name": "twice"}, {"name": "twice"}], "twice"),
    ],
)
async def test_bad_template_bodies_are_400(http: httpx.AsyncClient, body: Any, fragment: str) -> None:
    response = await _templates_api(http).post("/templates", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]
    yaml_body = {"content-type": "application/yaml"}
    assert (
        await _templates_api(http).post("/templates", content=b"{not: [valid", headers=yaml_body)
    ).status_code == 400


async def test_export_and_import_round_trip_in_yaml_and_json(
    make_settings: Callable[..., Settings], http: httpx.AsyncClient, tmp_path: Path
) -> None:
    await _create(http, SUPPORT)
    await _create(http, {"name": "terse", "system": "Be terse."})
    await _create(http, {"name": "terse", "system": "Be very terse."})
    api = _templates_api(http)
    exported_yaml = await api.get("/templates", params={"format": "yaml"})
    assert exported_yaml.headers["content-type"].startswith("application/yaml")
    document = yaml.safe_load(exported_yaml.text)
    assert [(t["name"], t["version"]) for t in document["templates"]] == [("support", 1), ("terse", 2)]
    exported_json = (await api.get("/templates", params={"format": "json"})).json()
    assert exported_json == document

    other_settings = make_settings(database={"url": f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"})
    async with in_process(FakeProvider(), other_settings) as other:
        imported = await _templates_api(other).post(
            "/templates", content=exported_yaml.text, headers={"content-type": "application/yaml"}
        )
        assert imported.status_code == 201
        assert imported.json()["created"] == ["support@1", "terse@1"]
        again = await _templates_api(other).post(
            "/templates", content=json.dumps(exported_json), headers={"content-type": "application/json"}
        )
        assert again.status_code == 200 and again.json()["unchanged"] == ["support@1", "terse@1"]
        copied = (await _templates_api(other).get("/templates")).json()["data"]
    originals = (await api.get("/templates")).json()["data"]
    fields = ("name", "description", "system", "context", "tools", "enhancements")
    assert [{k: t[k] for k in fields} for t in copied] == [{k: t[k] for k in fields} for t in originals]


async def test_the_templates_folder_is_imported_at_start_up_and_on_reload(
    make_settings: Callable[..., Settings], tmp_path: Path, fake: FakeProvider
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "a.yaml").write_text(
        yaml.safe_dump({"templates": [SUPPORT, {"name": "terse", "system": "Be terse."}]}), encoding="utf-8"
    )
    (folder / "b.json").write_text(json.dumps({"name": "coder", "system": "You write Python."}), encoding="utf-8")
    (folder / "notes.txt").write_text("not a template", encoding="utf-8")
    async with in_process(fake, make_settings(enhancements={"templates_dir": str(folder)})) as http:
        api = _templates_api(http)
        names = [(t["name"], t["version"]) for t in (await api.get("/templates")).json()["data"]]
        assert names == [("coder", 1), ("support", 1), ("terse", 1)]

        (folder / "b.json").write_text(json.dumps({"name": "coder", "system": "You write Rust."}), encoding="utf-8")
        (folder / "c.yaml").write_text("name: [unclosed", encoding="utf-8")
        report = (await api.post("/reload")).json()
        assert report["created"] == ["coder@2"]
        assert sorted(report["unchanged"]) == ["support@1", "terse@1"]
        assert len(report["errors"]) == 1 and report["errors"][0].startswith("c.yaml")

        client = async_openai(http, api_key="sk-template-test")
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_body={"lc_template": "coder"}
        )
        assert fake.requests[-1].body["messages"][0]["content"] == "You write Rust."


@pytest.mark.parametrize(
    ("enhancements", "fragment"),
    [
        (["chain_of_thougt"], "unknown enhancement 'chain_of_thougt'"),
        ([{"name": "self_critique", "options": {"rounds": 2}}], "has no option 'rounds'"),
        (["structured_json", "chain_of_thought"], "'structured_json' and 'chain_of_thought' contradict"),
    ],
)
async def test_a_template_the_enhance_stage_would_refuse_is_refused_when_saved(
    http: httpx.AsyncClient, fake: FakeProvider, enhancements: list[Any], fragment: str
) -> None:
    api = _templates_api(http)
    single = await api.post("/templates", json={"name": "helper", "system": "Help.", "enhancements": enhancements})
    assert single.status_code == 400 and fragment in single.json()["error"]["message"]
    several = [{"name": "fine", "system": "Fine."}, {"name": "helper", "enhancements": enhancements}]
    listed = await api.post("/templates", json=several)
    assert listed.status_code == 400 and fragment in listed.json()["error"]["message"]
    assert (await api.get("/templates")).json()["data"] == []  # one bad template saves none


async def test_a_folder_template_naming_an_unknown_enhancement_is_skipped_and_reported(
    make_settings: Callable[..., Settings], tmp_path: Path, fake: FakeProvider
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "a.yaml").write_text(
        yaml.safe_dump(
            {"templates": [{"name": "terse", "system": "Be terse."}, {"name": "odd", "enhancements": ["x"]}]}
        ),
        encoding="utf-8",
    )
    async with in_process(fake, make_settings(enhancements={"templates_dir": str(folder)})) as http:
        api = _templates_api(http)
        assert [t["name"] for t in (await api.get("/templates")).json()["data"]] == ["terse"]
        report = (await api.post("/reload")).json()
    assert report["unchanged"] == ["terse@1"] and report["created"] == []
    assert len(report["errors"]) == 1 and "odd: enhancements: unknown enhancement 'x'" in report["errors"][0]


async def test_templates_are_checked_against_the_apps_own_registry(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    from layercache_asgi.enhancements import Addition, default_registry

    async def persona(exchange: Any, options: dict[str, Any]) -> Addition:
        return Addition(text=f"Answer as a {options.get('role', 'pirate')}.")

    registry = default_registry()
    registry.register("persona", persona, options=["role"])
    stages = [Middleware(Enhance, registry=registry) if s is Enhance else s for s in DEFAULT_STAGES]
    async with in_process(fake, make_settings(), stages=stages) as http:
        api = _templates_api(http)
        good = {"name": "poet", "enhancements": [{"name": "persona", "options": {"role": "poet"}}]}
        assert (await api.post("/templates", json=good)).status_code == 201
        bad = {"name": "poet2", "enhancements": [{"name": "persona", "options": {"mood": "dark"}}]}
        assert "has no option 'mood'" in (await api.post("/templates", json=bad)).json()["error"]["message"]
        client = async_openai(http, api_key="sk-template-test")
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_body={"lc_template": "poet"}
        )
    assert fake.requests[-1].body["messages"][0]["content"] == "Answer as a poet.\n\nhi"


@pytest.mark.parametrize("reference", ["support@x", "@0", "support@0", "support@-1", "@", "support@", "support@01"])
async def test_a_malformed_version_is_a_400_not_a_404(
    http: httpx.AsyncClient, fake: FakeProvider, reference: str
) -> None:
    await _create(http, SUPPORT)
    oai = async_openai(http, api_key="sk-template-test")
    with pytest.raises(openai.BadRequestError, match="bad version"):
        await oai.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_body={"lc_template": reference}
        )
    ant = async_anthropic(http, api_key="sk-ant-template-test")
    with pytest.raises(anthropic.BadRequestError, match="bad version"):
        await ant.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=16,
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"lc_template": reference},
        )
    assert fake.requests == []


async def test_show_refuses_a_malformed_version(http: httpx.AsyncClient) -> None:
    await _create(http, SUPPORT)
    api = _templates_api(http)
    assert (await api.get("/templates/support", params={"version": "1"})).status_code == 200
    for version in ("01", "0", "x", "-1", ""):
        shown = await api.get("/templates/support", params={"version": version})
        assert shown.status_code == 400 and "bad version" in shown.json()["error"]["message"], version
    assert (await api.get("/templates/support@01")).status_code == 400


async def test_reload_without_a_folder_is_a_409(http: httpx.AsyncClient) -> None:
    response = await _templates_api(http).post("/reload")
    assert response.status_code == 409
    assert "templates_dir" in response.json()["error"]["message"]


async def test_template_routes_need_the_admin_key_and_never_a_client_key(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    async with in_process(fake, make_settings(proxy={"proxy_api_key": "proxy-secret-key"})) as http:
        anonymous = _templates_api(http, **{"x-nothing": "1"})
        client_key = _templates_api(http, authorization="Bearer proxy-secret-key")
        wrong = _templates_api(http, authorization="Bearer guess")
        for client in (anonymous, client_key, wrong):
            assert (await client.get("/templates")).status_code == 401
            assert (await client.post("/templates", json=SUPPORT)).status_code == 401
            assert (await client.delete("/templates/support")).status_code == 401
            assert (await client.post("/reload")).status_code == 401
        admin = _templates_api(http, authorization=f"Bearer {ADMIN_KEY}")
        assert (await admin.post("/templates", json=SUPPORT)).status_code == 201
        assert (await client_key.get("/templates/support")).status_code == 401
        assert [t["name"] for t in (await admin.get("/templates")).json()["data"]] == ["support"]


async def test_templates_survive_a_restart(make_settings: Callable[..., Settings], fake: FakeProvider) -> None:
    settings = make_settings()
    async with in_process(fake, settings) as http:
        await _create(http, SUPPORT)
    async with in_process(fake, settings) as http:
        client = async_openai(http, api_key="sk-template-test")
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_body={"lc_template": "support"}
        )
    assert fake.requests[-1].body["messages"][0]["content"] == SUPPORT["system"]


async def test_without_a_database_templates_live_in_memory(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    async with in_process(
        fake, make_settings(database={"url": "postgresql+asyncpg://nobody@127.0.0.1:1/layercache"})
    ) as http:
        created = await _templates_api(http).post("/templates", json=SUPPORT)
        assert created.status_code == 201
        assert (await _templates_api(http).get("/templates")).json()["persistent"] is False
        client = async_openai(http, api_key="sk-template-test")
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_body={"lc_template": "support"}
        )
    assert fake.requests[-1].body["messages"][0]["content"] == SUPPORT["system"]


async def test_without_an_admin_key_the_template_api_is_off(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    # Templates are shared by every tenant; a provider key passed through proves nothing about who may edit them.
    async with in_process(fake, make_settings(proxy={"admin_api_key": None})) as http:
        api = _templates_api(http, authorization="Bearer sk-some-provider-key")
        refused = [
            await api.get("/templates"),
            await api.get("/templates/support"),
            await api.post("/templates", json=SUPPORT),
            await api.delete("/templates/support"),
            await api.post("/reload"),
        ]
    for response in refused:
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "admin_key_not_set" and "proxy.admin_api_key" in error["message"]
        assert "$LAYERCACHE_ADMIN_KEY" in error["message"]
