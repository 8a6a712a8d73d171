"""Korean particles chosen from the word before them (avatarforge.korean)."""
from __future__ import annotations

import pytest

from avatarforge.korean import final_consonant, resolve_particles


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("미로와(과) 대화하기", "미로와 대화하기"),
        ("서지원와(과)", "서지원과"),
        ("액터을(를) 1개까지", "액터를 1개까지"),
        ("생성 작업을(를)", "생성 작업을"),
        ("아바타이(가) 너무 커요", "아바타가 너무 커요"),
        ("버퍼 3은(는)", "버퍼 3은"),
        ("버퍼 2은(는)", "버퍼 2는"),
        ("노드 10이(가)", "노드 10이"),
        ("“고양이”을(를) 삭제했어요", "“고양이”를 삭제했어요"),
        ("“서울”(으)로 업로드", "“서울”로 업로드"),  # ㄹ takes 로
        ("“부산”(으)로 업로드", "“부산”으로 업로드"),
        ("“미로”(으)로 업로드", "“미로”로 업로드"),
        ('<span class="visually-hidden">Mina와(과) </span>대화하기', '<span class="visually-hidden">Mina와 </span>대화하기'),
        ("Pixel을(를)", "Pixel을"),
        ("Tom &amp; Jerry을(를)", "Tom &amp; Jerry를"),
        ("VRM은(는)", "VRM은"),  # 엠
        ("Godette와(과) 민준와(과)", "Godette와 민준과"),
        ("🙂이(가)", "🙂이(가)"),  # nothing tells: both forms stay
        ("No particles here (really).", "No particles here (really)."),
    ],
)
def test_resolve_particles(text, expected):
    assert resolve_particles(text) == expected


def test_final_consonant_of_hangul_is_computed_from_the_syllable():
    assert final_consonant("가") == 0
    assert final_consonant("각") == 1
    assert final_consonant("길") == 8
    assert final_consonant("") is None
