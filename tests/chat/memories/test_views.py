"""The page "What <character> remembers about you": see, correct, delete, forget all, on/off."""
from __future__ import annotations

import pytest

from chat.models import CharacterMemory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


def remember(user, character, text):
    return CharacterMemory.objects.create(user=user, character=character, text=text)


def test_the_page_lists_your_facts_escaped_and_no_one_elses(client_in, user, other_user, character):
    remember(user, character, "Jiwon likes <script>alert(1)</script> tags.")
    remember(other_user, character, "Minsu's PIN is 4321.")
    html = client_in.get(f"/chat/memories/{character.pk}/").content.decode()
    assert "What Mina remembers about you" in html
    assert "Jiwon likes &lt;script&gt;alert(1)&lt;/script&gt; tags." in html and "<script>alert(1)" not in html
    assert "4321" not in html
    assert 'name="enabled" checked' in html


def test_the_conversation_page_links_to_it(client_in, conversation):
    html = client_in.get(f"/chat/{conversation.pk}/").content.decode()
    assert f'href="/chat/memories/{conversation.character.pk}/"' in html


def test_correct_and_delete_from_the_page(client_in, user, character):
    memory = remember(user, character, "Jiwon loves spicy ramen.")
    response = client_in.post(f"/chat/memories/{character.pk}/{memory.pk}/edit/", {"text": "Jiwon loves mild ramen."})
    assert response.status_code == 302
    memory.refresh_from_db()
    assert memory.text == "Jiwon loves mild ramen."
    page = client_in.post(f"/chat/memories/{character.pk}/{memory.pk}/edit/", {"text": " "}, follow=True).content.decode()
    assert "A memory cannot be empty." in page
    client_in.post(f"/chat/memories/{character.pk}/{memory.pk}/delete/")
    assert not CharacterMemory.objects.filter(pk=memory.pk).exists()


def test_others_memories_are_404_on_the_page(client, other_user, user, character):
    theirs = remember(user, character, "Jiwon loves spicy ramen.")
    client.force_login(other_user)
    assert client.post(f"/chat/memories/{character.pk}/{theirs.pk}/delete/").status_code == 404
    assert client.post(f"/chat/memories/{character.pk}/{theirs.pk}/edit/", {"text": "hacked"}).status_code == 404
    assert client.get(f"/chat/memories/{character.pk}/").status_code == 404  # a private character of someone else
    theirs.refresh_from_db()
    assert theirs.text == "Jiwon loves spicy ramen."


def test_switch_off_forgets_everything_and_forget_all(client_in, user, character):
    remember(user, character, "Jiwon loves spicy ramen.")
    page = client_in.post(f"/chat/memories/{character.pk}/toggle/", {}, follow=True).content.decode()
    assert "Memory is off. Everything was forgotten." in page and 'name="enabled" checked' not in page
    assert not CharacterMemory.objects.filter(user=user).exists()
    client_in.post(f"/chat/memories/{character.pk}/toggle/", {"enabled": "on"})
    remember(user, character, "Jiwon plays the cello.")
    remember(user, character, "Jiwon has a cat.")
    client_in.post(f"/chat/memories/{character.pk}/forget/")
    assert not CharacterMemory.objects.filter(user=user).exists()


def test_the_page_speaks_korean(client_in, user, character):
    client_in.cookies["django_language"] = "ko"
    html = client_in.get(f"/chat/memories/{character.pk}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "Mina" in html and "What Mina remembers about you" not in html
