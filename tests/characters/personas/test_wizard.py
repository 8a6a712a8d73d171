"""Creation wizard against a local OpenAI-compatible server (fake_llm): step 1 generates a draft,
step 2 edits and saves; three generations in all, enforced on the server; a bad answer saves
nothing and does not use up a generation."""
from __future__ import annotations

import json

import pytest

from characters.models import Character
from characters.personas import services as persona_services
from characters.personas import wizard


def sheet(tag: str = "1") -> dict[str, str]:
    values = {name: f"{name} {tag}" for name in wizard.GENERATED_FIELDS}
    values["first_message"] = f"Hello {{{{user}}}}, I am {{{{char}}}} ({tag})."
    return values


def start(api_client, **extra):
    body = {"name": "Noa Vell", "category": "novel", "source_work": "The Glass Tide", "language": "en", **extra}
    return api_client.post("/api/characters/wizard", body, format="json")


@pytest.mark.django_db
def test_step1_generates_a_draft(api_client, fake_llm, user):
    fake_llm.reply_json(sheet("A"))
    response = start(api_client)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Noa Vell" and body["category"] == "novel" and body["source_work"] == "The Glass Tide"
    assert body["personality"] == "personality A"
    assert body["scenario_background"] == "scenario_background A"
    assert (body["generation_count"], body["generations_left"], body["max_generations"]) == (1, 2, 3)
    draft = Character.objects.get(pk=body["id"])
    assert draft.is_draft and draft.owner == user and draft.visibility == "private"
    # The prompt carried the three inputs and asked for the schema.
    request = fake_llm.completions[-1]
    prompt = json.dumps(request.messages)
    assert "Noa Vell" in prompt and "The Glass Tide" in prompt and "speech_style" in prompt
    assert request.body.get("response_format", {}).get("type") == "json_schema"
    # Drafts are not characters yet.
    assert api_client.get("/api/characters?scope=mine").json()["count"] == 0
    assert api_client.get(f"/api/characters/{draft.pk}").status_code == 404


@pytest.mark.django_db
def test_generation_limit_is_enforced_on_the_server(api_client, fake_llm):
    fake_llm.reply_json(sheet("1"))
    draft_id = start(api_client).json()["id"]
    for n in (2, 3):
        fake_llm.reply_json(sheet(str(n)))
        response = api_client.post(f"/api/characters/wizard/{draft_id}/regenerate", {}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["generation_count"] == n
        assert response.json()["description"] == f"description {n}"
    calls = len(fake_llm.completions)
    fake_llm.reply_json(sheet("4"))
    response = api_client.post(f"/api/characters/wizard/{draft_id}/regenerate", {}, format="json")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "wizard_generation_limit"
    assert body["details"] == {"max_generations": 3, "used": 3}
    assert len(fake_llm.completions) == calls  # the model was not even asked
    draft = Character.objects.get(pk=draft_id)
    assert draft.generation_count == 3 and draft.description == "description 3"


@pytest.mark.django_db
def test_regenerate_with_changed_inputs(api_client, fake_llm):
    fake_llm.reply_json(sheet("1"))
    draft_id = start(api_client).json()["id"]
    fake_llm.reply_json(sheet("2"))
    response = api_client.post(f"/api/characters/wizard/{draft_id}/regenerate",
                               {"name": "Noa Vell II", "source_work": "The Glass Tide 2"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Noa Vell II"
    assert "The Glass Tide 2" in json.dumps(fake_llm.completions[-1].messages)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answer",
    [
        {"description": "only one field"},
        {**sheet(), "personality": 42},
        {**sheet(), "description": "x" * 20001},
        {**sheet(), "first_message": ""},
    ],
    ids=["missing-fields", "wrong-type", "too-long", "empty-required"],
)
def test_invalid_answer_saves_nothing(api_client, fake_llm, answer):
    fake_llm.reply_json(answer)
    response = start(api_client)
    assert response.status_code == 502, response.json()
    assert response.json()["code"] == "wizard_invalid_output"
    assert Character.objects.count() == 0


@pytest.mark.django_db
def test_not_json_saves_nothing(api_client, fake_llm):
    fake_llm.reply("Sure! Here is a character: Noa is brave.")
    response = start(api_client)
    assert response.status_code == 502
    assert response.json()["code"] == "wizard_invalid_output"
    assert Character.objects.count() == 0


@pytest.mark.django_db
def test_failed_regeneration_does_not_count(api_client, fake_llm):
    fake_llm.reply_json(sheet("1"))
    draft_id = start(api_client).json()["id"]
    fake_llm.reply_json({"nope": True})
    response = api_client.post(f"/api/characters/wizard/{draft_id}/regenerate", {}, format="json")
    assert response.status_code == 502 and response.json()["code"] == "wizard_invalid_output"
    draft = Character.objects.get(pk=draft_id)
    assert draft.generation_count == 1 and draft.description == "description 1"


@pytest.mark.django_db
def test_model_unreachable_saves_nothing(api_client, fake_llm):
    fake_llm.fail(500, "boom", times=10)
    response = start(api_client)
    assert response.status_code >= 500
    assert response.json()["code"].startswith("llm_")
    assert Character.objects.count() == 0


@pytest.mark.django_db
def test_finish_saves_the_edited_draft(api_client, fake_llm):
    fake_llm.reply_json(sheet("1"))
    draft_id = start(api_client).json()["id"]
    response = api_client.post(f"/api/characters/wizard/{draft_id}/finish",
                               {"personality": "Edited by hand", "visibility": "unlisted"}, format="json")
    assert response.status_code == 200, response.json()
    character = Character.objects.get(pk=draft_id)
    assert not character.is_draft
    assert character.personality == "Edited by hand" and character.visibility == "unlisted"
    assert character.description == "description 1"
    assert api_client.get(f"/api/characters/{draft_id}").status_code == 200
    # A finished character is no longer a draft: the wizard cannot regenerate it.
    response = api_client.post(f"/api/characters/wizard/{draft_id}/regenerate", {}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "wizard_draft_not_found"


@pytest.mark.django_db
def test_finish_validates(api_client, fake_llm):
    fake_llm.reply_json(sheet("1"))
    draft_id = start(api_client).json()["id"]
    response = api_client.post(f"/api/characters/wizard/{draft_id}/finish", {"name": "", "likes": "l" * 2001}, format="json")
    assert response.status_code == 400
    assert set(response.json()["details"]) >= {"name", "likes"}
    assert Character.objects.get(pk=draft_id).is_draft


@pytest.mark.django_db
def test_drafts_are_private_to_their_owner(api_client, fake_llm, other_user):
    from rest_framework.test import APIClient

    fake_llm.reply_json(sheet("1"))
    draft_id = start(api_client).json()["id"]
    intruder = APIClient()
    intruder.force_authenticate(other_user)
    for method, url in (
        ("get", f"/api/characters/wizard/{draft_id}"),
        ("post", f"/api/characters/wizard/{draft_id}/regenerate"),
        ("post", f"/api/characters/wizard/{draft_id}/finish"),
        ("delete", f"/api/characters/wizard/{draft_id}"),
    ):
        response = getattr(intruder, method)(url, {}, format="json")
        assert response.status_code == 404, (method, url)
    assert Character.objects.get(pk=draft_id).generation_count == 1


@pytest.mark.django_db
def test_discard(api_client, fake_llm):
    fake_llm.reply_json(sheet("1"))
    draft_id = start(api_client).json()["id"]
    assert api_client.delete(f"/api/characters/wizard/{draft_id}").status_code == 204
    assert not Character.objects.filter(pk=draft_id).exists()


@pytest.mark.django_db
def test_old_drafts_are_pruned(api_client, fake_llm, user):
    for i in range(7):
        fake_llm.reply_json(sheet(str(i)))
        assert start(api_client, name=f"Draft {i}").status_code == 201
    assert Character.objects.filter(owner=user, is_draft=True).count() == 5


@pytest.mark.django_db
def test_hourly_generation_rate(api_client, fake_llm, monkeypatch):
    monkeypatch.setattr(persona_services, "WIZARD_GENERATIONS_PER_HOUR", 1)
    fake_llm.reply_json(sheet("1"))
    assert start(api_client).status_code == 201
    response = start(api_client)
    assert response.status_code == 429
    assert response.json()["code"] == "wizard_rate_limited"
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_step1_input_validation(api_client, fake_llm):
    response = api_client.post("/api/characters/wizard", {"name": "", "category": "spaceship"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"name", "category"}
    assert fake_llm.completions == []


@pytest.mark.django_db
def test_wizard_pages(client, user, password, fake_llm):
    client.login(email=user.email, password=password)
    assert client.get("/characters/new/").status_code == 200
    fake_llm.reply_json(sheet("1"))
    response = client.post("/characters/new/", {"name": "Page Hero", "category": "original", "source_work": "",
                                                 "language": "en"})
    assert response.status_code == 302
    draft = Character.objects.get(owner=user, is_draft=True)
    assert response["Location"] == f"/characters/new/{draft.pk}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "description 1" in page.content.decode() and "Generate again" in page.content.decode()

    fake_llm.reply_json(sheet("2"))
    response = client.post(f"/characters/new/{draft.pk}/", {"action": "regenerate", "name": "Page Hero",
                                                             "category": "original", "source_work": ""})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.generation_count == 2 and draft.description == "description 2"

    form = {f: getattr(draft, f) for f in ("name", "category", "source_work", "language", "description", "personality",
                                           "first_message", "visibility")}
    form.update({"action": "save", "personality": "Saved from the page", "builtin_avatar": "cat", "tags": "a, b"})
    response = client.post(f"/characters/new/{draft.pk}/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert not draft.is_draft and draft.personality == "Saved from the page" and draft.tags == ["a", "b"]
    assert response["Location"] == f"/characters/{draft.pk}/"


@pytest.mark.django_db
def test_wizard_page_shows_limit(client, user, password, fake_llm):
    client.login(email=user.email, password=password)
    fake_llm.reply_json(sheet("1"))
    client.post("/characters/new/", {"name": "Limit", "category": "original", "language": "en"})
    draft = Character.objects.get(owner=user, is_draft=True)
    Character.objects.filter(pk=draft.pk).update(generation_count=3)
    page = client.get(f"/characters/new/{draft.pk}/").content.decode()
    assert "No generations left" in page
    response = client.post(f"/characters/new/{draft.pk}/", {"action": "regenerate"}, follow=True)
    assert "wizard_generation_limit" in response.content.decode()
    draft.refresh_from_db()
    assert draft.generation_count == 3


# --- answers a person could not use: refused, asked again within the generation limit --------------
def korean_sheet() -> dict[str, str]:
    values = {name: f"{name.replace('_', ' ')}에 대한 자세한 한국어 설명입니다" for name in wizard.GENERATED_FIELDS}
    values.update(gender="여성", species="인간", age="17세", height="162 cm", job="학생", scenario_counterpart="새 친구",
                  first_message="안녕하세요 {{user}}님, 저는 {{char}}예요.",
                  example_dialogue="{{user}}: 안녕?\n{{char}}: 반가워요!")
    return values


def echoing_sheet() -> dict[str, str]:
    # What the embedded model wrote on a walk-through: the form's hints as values, "17" everywhere.
    values = {name: wizard._HINTS[name] for name in wizard.GENERATED_FIELDS}
    values.update(gender="17", species="17", age="17", first_message="Who the character is: background and story...")
    return values


def test_sheet_problems():
    assert wizard.sheet_problems(sheet("1"), language="en") == {}
    assert wizard.sheet_problems(korean_sheet(), language="ko") == {}  # {{user}} / {{char}} do not count as English
    echo = wizard.sheet_problems(echoing_sheet(), language="en")
    assert echo["description"] == echo["first_message"] == "echoes the form's hint"
    assert echo["gender"] == "not a word" and echo["age"] == "the same value as other fields"
    assert wizard.sheet_problems({**sheet("1"), "personality": "personality"}, language="en") == {"personality": "echoes the form's hint"}
    assert wizard.sheet_problems({**sheet("1"), "job": "42", "height": "42"}, language="en") == {"job": "not a word"}
    assert wizard.sheet_problems(sheet("1"), language="ko") == {"language": "not written in Korean"}
    assert wizard.sheet_problems(korean_sheet(), language="en") == {"language": "not written in English"}
    # An English sheet may name a Korean place; a Korean one may use an English term.
    assert wizard.sheet_problems({**sheet("1"), "worldview": "Set in 서울"}, language="en") == {}
    assert wizard.sheet_problems({**korean_sheet(), "thoughts": "MBTI는 INFP"}, language="ko") == {}


@pytest.mark.django_db
def test_an_unusable_answer_is_asked_again(api_client, fake_llm):
    fake_llm.reply_json(echoing_sheet())
    fake_llm.reply_json(sheet("B"))
    response = start(api_client)
    assert response.status_code == 201, response.json()
    assert response.json()["description"] == "description B"
    assert response.json()["generation_count"] == 1  # the refused answer did not use up a generation
    assert len(fake_llm.completions) == 2


@pytest.mark.django_db
def test_a_korean_draft_refuses_an_english_sheet(api_client, fake_llm):
    fake_llm.reply_json(sheet("en"))
    fake_llm.reply_json(korean_sheet())
    response = start(api_client, name="하늘", source_work="", language="ko")
    assert response.status_code == 201, response.json()
    assert response.json()["gender"] == "여성"


@pytest.mark.django_db
def test_the_wizard_gives_up_after_the_generation_limit(api_client, fake_llm):
    for _ in range(5):
        fake_llm.reply_json(echoing_sheet())
    response = start(api_client)
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == "wizard_invalid_output" and body["details"]["tries"] == 3
    assert "yourself" in body["message"]
    assert "description" in body["details"]["fields"]
    assert len(fake_llm.completions) == 3  # never more than the three generations
    assert Character.objects.count() == 0


@pytest.mark.django_db
def test_a_regeneration_tries_only_the_generations_left(api_client, fake_llm):
    fake_llm.reply_json(sheet("1"))
    draft_id = start(api_client).json()["id"]
    Character.objects.filter(pk=draft_id).update(generation_count=2)
    for _ in range(3):
        fake_llm.reply_json(echoing_sheet())
    calls = len(fake_llm.completions)
    response = api_client.post(f"/api/characters/wizard/{draft_id}/regenerate", {}, format="json")
    assert response.status_code == 502 and response.json()["details"]["tries"] == 1
    assert len(fake_llm.completions) == calls + 1
    draft = Character.objects.get(pk=draft_id)
    assert draft.generation_count == 2 and draft.description == "description 1"


@pytest.mark.django_db
def test_no_new_try_after_the_time_budget(api_client, fake_llm, monkeypatch):
    monkeypatch.setattr(persona_services, "WIZARD_RETRY_BUDGET_S", 0.0)
    fake_llm.reply_json(echoing_sheet())
    fake_llm.reply_json(sheet("B"))
    response = start(api_client)
    assert response.status_code == 502 and response.json()["details"]["tries"] == 1
    assert len(fake_llm.completions) == 1


@pytest.mark.django_db
def test_the_wizard_waits_as_long_as_a_sheet_takes_on_a_slow_model(api_client, fake_llm, settings):
    # The model's chat-sized timeout (0.2 s here) would cut the sheet; the wizard's budget is what
    # the sheet's tokens need at the slowest expected speed.
    settings.LLM_MODELS = [fake_llm.model_config("fake", timeout=0.2, max_tokens=20)]
    assert wizard.generation_timeout(None, 20) == 20 / wizard.SLOWEST_TOKENS_PER_S
    fake_llm.reply_json(sheet("slow"), delay=0.5)
    response = start(api_client)
    assert response.status_code == 201, response.json()
    assert fake_llm.completions[-1].body["max_tokens"] == 20
