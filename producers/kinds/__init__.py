"""Product kinds: one module per kind, and the one registry that lists them.

A kind module declares everything about its kind (``base.Kind``): its model and caps, its labels
in en/vi/hi, its scaffold, its report column, its jobs (``plan``) and its page (a template in the
module, rendered with ``web.templates.fragment``). ``registry.REGISTRY`` is one literal dict;
adding a kind is its module, its tests and one line there. ``cards`` draws the site's page cards;
``sharing`` the share images several kinds draw.

May import: base, ``producers.media``, ``producers.content``, ``producers.web`` and
``producers.jobs``. Never ``editorial``, ``build`` or the entry points.
"""
