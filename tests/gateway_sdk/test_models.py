"""`GET /v1/models` through each SDK's `models.list()`: each SDK parses the
answer in its own format (Anthropic: data/has_more/first_id/last_id with
`type: model`; OpenAI: object=list with `object: model`)."""

from conftest import CLIENT_KEY


def test_anthropic_models_list(switchboard, fake_anthropic):
    sb = switchboard(preferred="anthropic")
    page = sb.anthropic().models.list()
    models = list(page)
    assert models, "empty model list"
    for m in models:
        assert isinstance(m.id, str) and m.id, m
        assert m.type == "model", m
    # Anthropic's own shape, not OpenAI's.
    raw = sb.anthropic().models.with_raw_response.list()
    body = raw.http_response.json()
    assert isinstance(body.get("data"), list) and "has_more" in body, body
    for rec in fake_anthropic.requests:
        assert CLIENT_KEY not in str(rec.headers)


def test_openai_models_list(switchboard, fake_openai):
    sb = switchboard(preferred="openai", fallback=("openai", "anthropic"))
    models = list(sb.openai().models.list())
    assert models, "empty model list"
    for m in models:
        assert isinstance(m.id, str) and m.id, m
        assert m.object == "model", m
    raw = sb.openai().models.with_raw_response.list()
    body = raw.http_response.json()
    assert body.get("object") == "list" and isinstance(body.get("data"), list), body
    for rec in fake_openai.requests:
        assert CLIENT_KEY not in str(rec.headers)
