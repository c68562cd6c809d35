from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "notes"
    verbose_name = "Notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notes import cdn, site_state

        site_state.connect_signals()
        cdn.connect_signals()
