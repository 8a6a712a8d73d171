"""Portraits of the built-in 2D avatars: committed PNGs that match what the browser renderer
draws now (headless Chromium, a pixel tolerance), shown on the character pages and carried by
Character Card PNG exports instead of a letter."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from characters.models import Character
from characters.models.personas import BuiltinAvatar
from characters.personas import portraits
from characters.personas.cards import cards

# Anti-aliasing may differ a little between Chromium builds; a changed drawing differs a lot.
MAX_CHANNEL_DIFF = 24
MAX_DIFFERING_SHARE = 0.005


def _pixels(png: bytes) -> Image.Image:
    with Image.open(io.BytesIO(png)) as img:
        return img.convert("RGBA")


def differing_share(a: bytes, b: bytes) -> float:
    """Share of pixels where some channel differs by more than MAX_CHANNEL_DIFF (1.0 if sizes differ)."""
    left, right = _pixels(a), _pixels(b)
    if left.size != right.size:
        return 1.0
    diff = ImageChops.difference(left, right)
    channels = [Image.eval(band, lambda v: 255 if v > MAX_CHANNEL_DIFF else 0) for band in diff.split()]
    worst = channels[0]
    for band in channels[1:]:
        worst = ImageChops.lighter(worst, band)
    histogram = worst.histogram()
    return histogram[255] / (left.size[0] * left.size[1])


def test_every_builtin_avatar_has_a_committed_portrait():
    for key in BuiltinAvatar.values:
        png = portraits.portrait_png(key)
        assert png is not None, key
        image = _pixels(png)
        assert image.size == (portraits.PORTRAIT_SIZE, portraits.PORTRAIT_SIZE)
        # A drawing, not a blank: many distinct colours.
        assert len(image.getcolors(maxcolors=1_000_000)) > 500, key
    assert portraits.portrait_png("dragon") is None and portraits.static_name("") == ""


def test_the_comparison_tells_portraits_apart():
    fox, cat = portraits.portrait_png("fox"), portraits.portrait_png("cat")
    assert differing_share(fox, fox) == 0.0
    assert differing_share(fox, cat) > 0.2


@pytest.mark.browser
def test_committed_portraits_match_what_the_renderer_draws_now():
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Chromium not installed")
    rendered = portraits.render_portraits(chromium_path=str(chromium))
    assert set(rendered) == set(BuiltinAvatar.values)
    stale = {key: share for key, png in rendered.items()
             if (share := differing_share(png, portraits.portrait_png(key))) > MAX_DIFFERING_SHARE}
    assert stale == {}, "run `python manage.py render_avatar_portraits` and commit static/img/portraits/"


@pytest.mark.django_db
def test_card_png_export_carries_the_builtin_portrait(api_client, user):
    fox = Character.objects.create(owner=user, name="Foxy", builtin_avatar="fox")
    plain = Character.objects.create(owner=user, name="Plain")
    response = api_client.get(f"/api/characters/{fox.pk}/export?format=v3&as=png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert differing_share(response.content, portraits.portrait_png("fox")) == 0.0
    assert cards.parse_card_file(response.content, filename="x.png", content_type="image/png").fields["name"] == "Foxy"
    # No avatar at all: still a generated picture with the initial, not a built-in portrait.
    generated = api_client.get(f"/api/characters/{plain.pk}/export?format=v2&as=png").content
    assert all(differing_share(generated, portraits.portrait_png(k)) > 0.2 for k in BuiltinAvatar.values)


@pytest.mark.django_db
def test_pages_show_preset_portraits(client):
    from characters.personas import services

    services.load_presets()
    miro = Character.objects.get(preset_key="miro-fox-spirit", language="en")
    assert miro.builtin_avatar == "fox"
    listing = client.get("/characters/").content.decode()
    assert '/static/img/portraits/fox.png' in listing and '/static/img/portraits/robot.png' in listing
    detail = client.get(f"/characters/{miro.pk}/").content.decode()
    assert 'class="persona-portrait" src="/static/img/portraits/fox.png"' in detail
