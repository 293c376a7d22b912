from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "producers.portal"
    label = "portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from producers.portal import audit  # noqa: F401  (connects the login signals)
