"""cell35: turns cells' session content into media and a static site.

Layers, lowest first; a module imports only its own layer and those before it, and no module
imports itself back through others (``tests/test_layers.py`` reads every import, also inside
functions):

    errors, files      base: the exception tree, whole-or-absent writes
    media/             tools, sniffing, fonts and text engine, images, audio, speech, video
    content/           model, safe YAML, validation, loader, the Markdown parser, ledger
    web/               Markdown -> sanitised HTML, templates with autoescape, labels
    jobs/              jobs, keys, cache and runner
    kinds/             one module per product kind, and the registry
    editorial/         workflow, intake, report, exports
    build/             pages, mkdocs rendering, search, fonts, feeds, site assembly
    cli, editorial_cli, serve   entry points
"""

__version__ = "0.1.0"
