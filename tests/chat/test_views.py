"""Chat pages: home (characters + conversations), start, conversation page, rename, delete."""
from __future__ import annotations

import json
import re

import pytest

from chat.models import Conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


def test_home_lists_characters_and_conversations(client_in, conversation, make_character, other_user):
    make_character(owner=other_user, name="Hidden", visibility="private")
    make_character(owner=other_user, name="Shared", visibility="public", featured=True)
    make_character(owner=other_user, name="Plain", visibility="public")
    html = client_in.get("/chat/").content.decode()
    # Like the characters page: yours and featured ones; a search finds every public one.
    assert "Mina" in html and "Shared" in html and "Hidden" not in html and "Plain" not in html
    assert f"/chat/{conversation.pk}/" in html
    assert "Plain" in client_in.get("/chat/?q=pla").content.decode()


def test_home_needs_login(client):
    response = client.get("/chat/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_start_form_and_start(client_in, character, fake_llm):
    html = client_in.get(f"/chat/?character={character.pk}").content.decode()
    assert "Start a conversation with Mina" in html
    response = client_in.post("/chat/start/", {"character": str(character.pk), "situation": "At a café."})
    conv = Conversation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/chat/{conv.pk}/"
    assert conv.scenario_situation == "At a café."


def test_start_with_a_hidden_character_fails_cleanly(client, other_user, character, fake_llm):
    client.force_login(other_user)
    response = client.post("/chat/start/", {"character": str(character.pk)}, follow=True)
    assert response.status_code == 200
    assert not Conversation.objects.exists()


def test_conversation_page(client_in, conversation, fake_llm):
    response = client_in.get(f"/chat/{conversation.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "dist/chat.js" in html and "Hi alice! I&#x27;m Mina." in html
    config = json.loads(re.search(r'<script id="chat-config" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert config["wsPath"] == f"/ws/chat/{conversation.pk}/"
    assert config["avatar"] == {"kind": "2d", "key": "builtin:fox"}
    assert set(config["emotions"]) >= {"happy", "neutral"}
    assert config["messages"][0]["text"] == "Hi alice! I'm Mina."


def test_the_mood_badge_and_the_browser_share_one_label_table(client_in, conversation, fake_llm):
    from chat.emotions import EMOTIONS

    for language, neutral, happy in (("en", "Neutral", "Happy"), ("ko", "무표정", "기쁨")):
        html = client_in.get(f"/chat/{conversation.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        strings = json.loads(re.search(r'<script id="chat-strings" type="application/json">(.*?)</script>', html, re.S).group(1))
        assert set(strings["emotion"]) == set(EMOTIONS)  # every emotion the model may pick has a label
        assert (strings["emotion"]["neutral"], strings["emotion"]["happy"]) == (neutral, happy)
        badge = re.search(r'<span data-chat-emotion data-emotion="neutral" class="badge">(.*?)</span>', html).group(1)
        assert badge == strings["emotion"]["neutral"]  # the server renders what the browser would set
        assert strings["cutLoop"]


def test_user_text_is_escaped(client_in, user, conversation, fake_llm):
    from chat import turns

    fake_llm.reply("[happy] <img src=x onerror=alert(1)>")
    turns.reply_sync(user=user, conversation_id=conversation.pk, text="<script>alert('x')</script>")
    html = client_in.get(f"/chat/{conversation.pk}/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_someone_elses_conversation_page_is_404(client, other_user, conversation):
    client.force_login(other_user)
    assert client.get(f"/chat/{conversation.pk}/").status_code == 404
    assert client.post(f"/chat/{conversation.pk}/delete/").status_code == 404
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_rename_and_delete(client_in, conversation):
    client_in.post(f"/chat/{conversation.pk}/rename/", {"title": "Evening talk"})
    conversation.refresh_from_db()
    assert conversation.title == "Evening talk"
    assert "cannot be undone" in client_in.get(f"/chat/{conversation.pk}/delete/").content.decode()
    response = client_in.post(f"/chat/{conversation.pk}/delete/")
    assert response.status_code == 302 and not Conversation.objects.exists()


def _avatar(owner, **fields):
    import hashlib

    from characters.models import Avatar

    key = fields.pop("key", "x")
    return Avatar.objects.create(
        owner=owner, name="Godette", vrm_version="1.0", file_hash=hashlib.sha256(key.encode()).hexdigest(), file_size=10,
        storage_key=f"avatars/{owner.pk}/{key}", encryption_key_id="k1", performance_rank="good", **fields,
    )


def test_the_page_shows_a_vrm_the_viewer_may_see(client_in, user, other_user, make_character, fake_llm):
    from chat import selectors, services

    own = make_character(owner=user, avatar=_avatar(user, key="own"))
    conv = services.create_conversation(user=user, character_id=own.pk)
    html = client_in.get(f"/chat/{conv.pk}/").content.decode()
    config = json.loads(re.search(r'<script id="chat-config" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert config["avatar"]["kind"] == "vrm" and "?token=" in config["avatar"]["url"]
    # Someone else's public character with a private VRM: the viewer gets the 2D face instead.
    theirs = make_character(owner=other_user, visibility="public", builtin_avatar="robot", avatar=_avatar(other_user, key="theirs"))
    assert selectors.avatar_for_viewer(user=user, character=theirs) == {"kind": "2d", "key": "builtin:robot"}
    shared = _avatar(other_user, key="shared", is_shared=True, redistribution_allowed=True)
    theirs.avatar = shared
    assert selectors.avatar_for_viewer(user=user, character=theirs)["kind"] == "vrm"


def test_korean_pages_pick_the_particle_after_a_name(client_in, user, make_character, fake_llm):
    jiwon = make_character(owner=user, name="서지원")
    miro = make_character(owner=user, name="미로")
    html = client_in.get(f"/chat/?character={jiwon.pk}", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "서지원과 대화 시작하기" in html  # the start form's heading
    assert "서지원과 </span>대화하기" in html and "미로와 </span>대화하기" in html  # the characters' buttons
    assert "(과)" not in html and "(와)" not in html
    listing = client_in.get("/characters/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "미로와 </span>대화하기" in listing and "(과)" not in listing
    conversation = client_in.post("/chat/start/", {"character": str(miro.pk)}, HTTP_ACCEPT_LANGUAGE="ko")
    page = client_in.get(conversation["Location"], HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    strings = json.loads(re.search(r'<script id="chat-strings" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert strings["thinking"].startswith("미로가 "), strings["thinking"]
