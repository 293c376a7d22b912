"""Jobs and the cache: a producer describes its work, the runner decides what is stale.

Owns ``Job`` (name, action, params, input files, needs/wants) and its key (SHA-256 of canonical
JSON of everything that matters, with the code identity of the action found from its imports:
``identity``), the content-addressed cache in ``.cache/jobs/<key>/``, the runner (fork server,
time and memory limits, a killed job takes its tools with it: ``pipeline``), hard-linked trees
(``trees``) and the build lock (``buildlock``).

May import: ``producers.errors``, ``producers.files`` and ``producers.media`` (the tool runner).
It knows nothing of content, kinds or pages.
"""
