"""Building the site: from loaded content and rendered jobs to a whole, atomically switched site.

Owns the generated pages (``pages``, from Markdown templates), rendering them with mkdocs-material
into a cache keyed by every page and asset (``render``, with the theme override in ``theme/``, the
base ``mkdocs.yml`` and the site's CSS/JS in ``assets/``), the static search index (``search``),
web fonts split by script (``webfonts``), podcast feeds (``feeds``, ``podcast_ns``), precompressed
copies (``compress``) and the assembly of it all (``site``: plan, run jobs, isolate failures,
write the build report, swap).

May import: every layer below it. Only the entry points (and the portal) import it.
"""
