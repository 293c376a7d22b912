"""Editorial work: what happens to a session between a cell and the public site.

Owns the workflow (submitted, approved, rejected, published; steps recorded in the ledger),
intake of a cell's zipped session (hostile archives refused, invalid ones quarantined with a report
in the cell's language), the evaluation report (per cell and quarter, CSV/JSON/SVG, each kind's
column from the registry) and the exports (contest DOCX, chat-group bundles).

May import: everything below it (base, media, content, web, jobs, kinds). Never ``build`` or the
entry points.
"""
