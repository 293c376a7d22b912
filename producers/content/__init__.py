"""Content: what cells write, read safely and validated once, at the edge.

Owns the declared schemas (``model``: site, cells, sessions and the product base every kind
extends), safe YAML reading and the file rules of the content tree (``yamlsafe``: regular files
only, no links, NFC names), ``path:line: field: message`` problems (``validation``), loading a
content tree into records (``loader``: it is given the kinds' models, it never imports a kind), the
one Markdown parser and its token tree (``markdown``) with the slide syntax on top of it
(``slidesmd``), the system's ledger of editorial steps (``ledger``), the one-writer lock on ``content/``
(``writelock``), changing a list in a hand-written YAML file line by line (``yamledit``) and
session scaffolds.

May import: ``producers.errors``, ``producers.files`` and ``producers.media`` (sniffing media a
session points at).
"""
