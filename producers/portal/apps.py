from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "producers.portal"
    label = "portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Models are importable only once the app registry is ready: hence here, not at the top.
        from producers.portal import audit
        audit.connect()
