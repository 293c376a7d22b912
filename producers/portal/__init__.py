"""The portal: cells submit sessions from a phone, editors review and publish, in a browser.

A Django project (accounts, sessions, CSRF, password hashing, forms and the admin are Django's own;
login throttling is django-axes). Accounts, roles, invitations, drafts and the audit log live in the
database (SQLite by default, PostgreSQL through ``DATABASE_URL``); the sessions themselves live where
they always did, under ``content/``: a submitted draft is filed by ``editorial.intake.intake_folder``
(the code path of ``cell35 intake``) and every editorial step goes through ``editorial.workflow``, so
``cell35 check``, ``build``, the workflow and the report see the same files and ledger as before.
Everything the portal asks of the content and editorial layers goes through ``portal/content.py``.

Run: ``python -m producers.portal run`` (or ``cell35 portal``): migrations, demo accounts on first
run, then gunicorn. Any other arguments go to Django's ``manage.py`` commands.
"""
