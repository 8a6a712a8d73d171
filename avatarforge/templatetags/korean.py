"""Korean particles in templates (avatarforge.korean).

    {% load korean %}
    {{ message|particles }}
    {% particles %}{% blocktranslate with name=c.name %}Talk with {{ name }}{% endblocktranslate %}{% endparticles %}

The block form runs on the rendered (already escaped) text, so it only ever swaps particles and
keeps the text's safety; the filter keeps its input's safety too.
"""
from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeData, mark_safe

from avatarforge.korean import resolve_particles

register = template.Library()


@register.filter(is_safe=True)
def particles(value: Any) -> Any:
    text = resolve_particles(str(value))
    return mark_safe(text) if isinstance(value, SafeData) else text  # noqa: S308 - safe in, safe out


class ParticlesNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        # The nodelist's output is what the template would have printed: escaped where it had to be.
        return mark_safe(resolve_particles(self.nodelist.render(context)))  # noqa: S308


@register.tag("particles")
def do_particles(parser: template.base.Parser, token: template.base.Token) -> ParticlesNode:
    nodelist = parser.parse(("endparticles",))
    parser.delete_first_token()
    return ParticlesNode(nodelist)
