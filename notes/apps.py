from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "notes"
    verbose_name = "Notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from notes import cdn, site_state

        site_state.connect_signals()
        cdn.connect_signals()
        post_migrate.connect(_finish_restores, sender=self, dispatch_uid="kb-finish-restores")


def _finish_restores(**kwargs) -> None:
    """A restore killed half-way is settled on the next start (the image runs `migrate`)."""
    from notes.backup import finish_interrupted_restores

    finish_interrupted_restores()
