"""Media engines: everything that turns bytes into pixels and sound, and knows nothing of sessions.

Owns the one runner of external tools (``tools``: timeouts, process groups, stderr's tail, partial
output removed), sniffing media by their bytes (``probe``), the Noto fonts and the text engine that
shapes Vietnamese and Devanagari (``fonts``, ``text``), images, audio loudness, speech (espeak-ng),
video encoding, captions and podcast artwork rules.

May import: ``producers.errors`` and ``producers.files`` only. Nothing here knows what a cell, a
session or a page is; a caller passes plain values in.
"""
