"""`make run`'s server: runserver (static files left to WhiteNoise), then, last, a box saying
where the admin is and how to log in."""

from whitenoise.runserver_nostatic.management.commands.runserver import (
    Command as RunserverCommand,
)

from notes.management.commands.ensure_admin import USERNAME, password_hint


def boxed(lines: list[str]) -> str:
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


class Command(RunserverCommand):
    help = "Serve the site for development, then show the admin's address, user and password."

    def on_bind(self, server_port):
        super().on_bind(server_port)
        host = "0.0.0.0" if self.addr == "0" else self.addr
        if self._raw_ipv6:
            host = f"[{host}]"
        lines = [
            f"Write at  http://{host}:{server_port}/admin/",
            f"User      {USERNAME}",
            f"Password  {password_hint()}",
        ]
        self.stdout.write(boxed(lines) + "\n")
