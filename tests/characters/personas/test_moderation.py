"""Moderation of AI characters: users report others' characters (API and page: reasons, a length
limit, one open report each, a rate limit, never their own); admins hide and unhide them, dismiss
reports and feature characters; a hidden character is gone for everyone but its owner, who sees
it marked, and nobody else can chat with it. The list defaults to your own plus featured ones."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts.models import User
from avatarforge.errors import NotFound
from characters.models import Character, CharacterReport
from characters.personas import moderation, services

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def theirs(other_user) -> Character:
    return Character.objects.create(owner=other_user, name="Troll Tom", visibility="public", description="Mean.")


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser(email="root@example.com", password="pw-long-enough-1")


@pytest.fixture
def logged_in(client, user, password):
    assert client.login(email=user.email, password=password)
    return client


def _report_url(character: Character) -> str:
    return f"/api/characters/{character.pk}/report"


# --- reporting through the API ----------------------------------------------------------------

def test_report_is_saved_once_while_open(api_client, user, theirs):
    response = api_client.post(_report_url(theirs), {"reason": "hate", "details": "  Insults everyone.  "}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["reason"], body["details"], body["status"], body["character"]) == ("hate", "Insults everyone.", "open", str(theirs.pk))
    report = CharacterReport.objects.get()
    assert (report.reporter, report.character, report.status) == (user, theirs, "open")

    again = api_client.post(_report_url(theirs), {"reason": "spam"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "report_exists"
    assert CharacterReport.objects.count() == 1
    # Once a moderator closed it, the same user may report again.
    CharacterReport.objects.update(status="dismissed")
    assert api_client.post(_report_url(theirs), {"reason": "spam"}, format="json").status_code == 201
    assert CharacterReport.objects.filter(status="open").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"reason": "boring"}, "reason"), ({}, "reason"), ({"reason": "other", "details": "x" * 1001}, "details")],
)
def test_bad_reports_are_refused_and_nothing_saved(api_client, theirs, body, field):
    response = api_client.post(_report_url(theirs), body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid" and field in data["details"], data
    assert not CharacterReport.objects.exists()


def test_details_at_the_limit_are_accepted(api_client, theirs):
    assert api_client.post(_report_url(theirs), {"reason": "other", "details": "가" * 1000}, format="json").status_code == 201


def test_who_may_report_what(api_client, anon_api_client, user, other_user):
    mine = Character.objects.create(owner=user, name="Mine", visibility="public")
    private = Character.objects.create(owner=other_user, name="Secret", visibility="private")
    unlisted = Character.objects.create(owner=other_user, name="Linked", visibility="unlisted")
    preset = Character.objects.create(owner=None, preset_key="p", name="Preset", visibility="public")
    # Authorization comes before validation: an invalid body on your own character is still 403.
    own = api_client.post(_report_url(mine), {"reason": "nonsense"}, format="json")
    assert own.status_code == 403 and own.json()["code"] == "report_own_character"
    assert api_client.post(_report_url(preset), {"reason": "spam"}, format="json").json()["code"] == "report_not_allowed"
    hidden = api_client.post(_report_url(private), {"reason": "spam"}, format="json")
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"
    assert anon_api_client.post(_report_url(unlisted), {"reason": "spam"}, format="json").status_code in (401, 403)
    assert not CharacterReport.objects.exists()
    # An unlisted character reached through its link may be reported.
    assert api_client.post(_report_url(unlisted), {"reason": "spam"}, format="json").status_code == 201


def test_reports_are_rate_limited(api_client, other_user):
    targets = [Character.objects.create(owner=other_user, name=f"C{i}", visibility="public")
               for i in range(moderation.REPORTS_PER_HOUR + 1)]
    for target in targets[:-1]:
        assert api_client.post(_report_url(target), {"reason": "spam"}, format="json").status_code == 201
    response = api_client.post(_report_url(targets[-1]), {"reason": "spam"}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "report_rate_limited" and response.json()["details"]["retry_after"] > 0
    assert CharacterReport.objects.count() == moderation.REPORTS_PER_HOUR


# --- reporting on the page --------------------------------------------------------------------

def test_detail_page_report_form(logged_in, user, theirs):
    page = logged_in.get(f"/characters/{theirs.pk}/").content.decode()
    assert f'action="/characters/{theirs.pk}/report/"' in page and 'name="reason"' in page
    response = logged_in.post(f"/characters/{theirs.pk}/report/", {"reason": "violence", "details": "Threatens me."}, follow=True)
    assert response.redirect_chain[-1][0] == f"/characters/{theirs.pk}/"
    html = response.content.decode()
    assert "Your report was sent to the moderators" in html
    assert "You reported this character" in html and 'name="reason"' not in html
    assert CharacterReport.objects.get().details == "Threatens me."
    again = logged_in.post(f"/characters/{theirs.pk}/report/", {"reason": "spam"}, follow=True).content.decode()
    assert "You already reported this character" in again and CharacterReport.objects.count() == 1


def test_page_report_refusals(logged_in, user, theirs):
    bad = logged_in.post(f"/characters/{theirs.pk}/report/", {"reason": "boring"}, follow=True).content.decode()
    assert "The report was not sent" in bad and not CharacterReport.objects.exists()
    mine = Character.objects.create(owner=user, name="Mine", visibility="public")
    assert 'name="reason"' not in logged_in.get(f"/characters/{mine.pk}/").content.decode()
    assert logged_in.post(f"/characters/{mine.pk}/report/", {"reason": "spam"}).status_code == 403
    assert not CharacterReport.objects.exists()


def test_korean_report_form(logged_in, theirs):
    page = logged_in.get(f"/characters/{theirs.pk}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "이 캐릭터 신고하기" in page and "Report this character" not in page


# --- hiding -----------------------------------------------------------------------------------

def test_hidden_character_is_gone_for_others_but_marked_for_its_owner(
    api_client, user, other_user, theirs, superuser, client, password, fake_llm,
):
    from chat import services as chat_services

    conversation = chat_services.create_conversation(user=user, character_id=theirs.pk)
    assert moderation.set_hidden(admin=superuser, character_ids=[theirs.pk], hidden=True) == 1

    # Others: not listed, no detail, no export, no chat (new or continued).
    listed = {c["name"] for c in api_client.get("/api/characters?scope=all").json()["results"]}
    assert "Troll Tom" not in listed
    assert api_client.get(f"/api/characters/{theirs.pk}").status_code == 404
    assert api_client.get(f"/api/characters/{theirs.pk}/export?format=v3&as=json").status_code == 404
    with pytest.raises(NotFound):
        chat_services.create_conversation(user=user, character_id=theirs.pk)
    with pytest.raises(NotFound) as caught:
        chat_services.start_reply(user=user, conversation_id=conversation.pk, text="Hello?")
    assert caught.value.code == "character_unavailable"
    assert client.get(f"/characters/{theirs.pk}/").status_code == 404

    # The owner: still there, marked hidden, with the reason spelled out.
    owner_api = client_for(other_user)
    detail = owner_api.get(f"/api/characters/{theirs.pk}").json()
    assert detail["is_hidden"] is True
    listed = {c["name"]: c for c in owner_api.get("/api/characters").json()["results"]}
    assert listed["Troll Tom"]["is_hidden"] is True
    assert client.login(email=other_user.email, password=password)
    page = client.get(f"/characters/{theirs.pk}/").content.decode()
    assert "Hidden by moderators" in page and "Only you can see it" in page
    assert "Hidden by moderators" in client.get("/characters/").content.decode()

    # Shown again: back for everybody.
    assert moderation.set_hidden(admin=superuser, character_ids=[theirs.pk], hidden=False) == 1
    assert api_client.get(f"/api/characters/{theirs.pk}").status_code == 200
    chat_services.start_reply(user=user, conversation_id=conversation.pk, text="Hello?")


def test_only_moderators_hide(user, theirs):
    from avatarforge.errors import Forbidden

    with pytest.raises(Forbidden):
        moderation.set_hidden(admin=user, character_ids=[theirs.pk], hidden=True)
    theirs.refresh_from_db()
    assert theirs.hidden_at is None


# --- admin ------------------------------------------------------------------------------------

def test_admin_report_queue_hides_and_dismisses(client, superuser, user, make_user, theirs):
    bystander = Character.objects.create(owner=theirs.owner, name="Nice Nina", visibility="public")
    first = moderation.report_character(user=user, character_id=theirs.pk, reason="hate", details="Rude.")
    second = moderation.report_character(user=make_user("bob@example.com"), character_id=bystander.pk, reason="spam")
    client.force_login(superuser)
    url = "/admin/characters/characterreport/"
    queue = client.get(url).content.decode()
    assert "Troll Tom" in queue and "Nice Nina" in queue and 'value="hide_characters"' in queue

    client.post(url, {"action": "hide_characters", "_selected_action": [str(first.pk)]})
    theirs.refresh_from_db()
    first.refresh_from_db()
    assert theirs.is_hidden and first.status == "actioned" and first.resolved_by == superuser

    client.post(url, {"action": "dismiss_reports", "_selected_action": [str(second.pk)]})
    second.refresh_from_db()
    bystander.refresh_from_db()
    assert second.status == "dismissed" and not bystander.is_hidden

    client.post(url, {"action": "unhide_characters", "_selected_action": [str(first.pk)]})
    theirs.refresh_from_db()
    assert not theirs.is_hidden


def test_view_only_staff_cannot_hide(client, make_user, password, user, theirs):
    staff = make_user("viewer@example.com", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_characterreport"))
    report = moderation.report_character(user=user, character_id=theirs.pk, reason="hate")
    assert client.login(email=staff.email, password=password)
    url = "/admin/characters/characterreport/"
    assert client.get(url).status_code == 200 and 'value="hide_characters"' not in client.get(url).content.decode()
    client.post(url, {"action": "hide_characters", "_selected_action": [str(report.pk)]})
    theirs.refresh_from_db()
    report.refresh_from_db()
    assert not theirs.is_hidden and report.status == "open"


# --- featured characters and the default list -------------------------------------------------

def test_default_list_is_mine_plus_featured(client, logged_in, user, other_user, superuser):
    Character.objects.create(owner=user, name="My Knight")
    plain = Character.objects.create(owner=other_user, name="Plain Pat", visibility="public")
    Character.objects.create(owner=other_user, name="Private Star", visibility="private", featured=True)
    html = logged_in.get("/characters/").content.decode()
    assert "My Knight" in html and "Plain Pat" not in html and "Private Star" not in html
    assert "Plain Pat" in logged_in.get("/characters/?scope=all").content.decode()

    admin = APIClient()
    admin.force_login(superuser)
    response = admin.post("/admin/characters/character/", {"action": "feature_characters", "_selected_action": [str(plain.pk)]})
    assert response.status_code == 302
    plain.refresh_from_db()
    assert plain.featured
    html = logged_in.get("/characters/").content.decode()
    assert "Plain Pat" in html and "Featured" in html
    assert "Plain Pat" in client_for(user).get("/api/characters").content.decode()
    assert [c["name"] for c in APIClient().get("/api/characters").json()["results"]] == ["Plain Pat"]


def test_presets_start_featured():
    services.load_presets()
    presets = Character.objects.filter(owner__isnull=True)
    assert presets.exists() and not presets.filter(featured=False).exists()


def test_owners_cannot_feature_or_unhide_their_own(api_client, user, superuser):
    mine = Character.objects.create(owner=user, name="Mine", visibility="public")
    moderation.set_hidden(admin=superuser, character_ids=[mine.pk], hidden=True)
    response = api_client.patch(f"/api/characters/{mine.pk}", {"featured": True, "is_hidden": False, "hidden_at": None},
                                format="json")
    assert response.status_code == 200  # read-only fields are ignored, as DRF does
    mine.refresh_from_db()
    assert not mine.featured and mine.is_hidden


def test_admin_character_list_counts_open_reports(client, superuser, user, make_user, theirs):
    moderation.report_character(user=user, character_id=theirs.pk, reason="hate")
    moderation.report_character(user=make_user("bob@example.com"), character_id=theirs.pk, reason="spam")
    client.force_login(superuser)
    page = client.get("/admin/characters/character/?o=-8").content.decode()
    row = page.split("Troll Tom</a>")[1].split("</tr>")[0]
    assert 'class="field-open_reports">2<' in row
