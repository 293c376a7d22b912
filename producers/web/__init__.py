"""Web primitives: how text becomes HTML, and the words the site speaks.

Untrusted Markdown becomes HTML in one place, ``html`` (the one parser's tree rendered, then
sanitised by nh3); every other piece of HTML comes from a Jinja2 template with autoescaping on
(``templates``; files in ``templates/``, or ``fragment()`` for markup a kind keeps in its module).
``i18n`` holds the site's labels in en/vi/hi; ``pictures`` the responsive ``<picture>`` markup.

May import: ``producers.errors``, ``producers.files``, ``producers.media`` and ``producers.content``
(the Markdown tree). It never imports a kind: a kind's labels are passed in by the caller.
"""
