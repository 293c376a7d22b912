from django import template

register = template.Library()


@register.filter
def get_label(labels: dict, key: str) -> str:
    """``{{ t|get_label:key }}`` for a label whose key is computed (a status, a kind)."""
    return labels.get(key, key)


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key) if isinstance(mapping, dict) else None
