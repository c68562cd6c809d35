"""A browser for the soak test: its cookies, and the fields a form would send, so staff
edits go through the admin's real forms with their CSRF tokens."""

from __future__ import annotations

import http.client
from html.parser import HTMLParser
from urllib.parse import urlencode


class Session:
    """One browser: its cookies, one connection a request (gunicorn's sync workers close)."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, form: list | None = None) -> tuple[int, dict, str]:
        headers = {"Accept-Encoding": "identity"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode([tuple(pair) for pair in form])
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, dict(response.getheaders()), text
        finally:
            connection.close()

    def timed(self, run, kind: str, method: str, path: str, form=None):
        """The request, noted in `run` (a soak_checks.Run) with its status or its failure."""
        try:
            status, headers, text = self.request(method, path, form)
        except (OSError, http.client.HTTPException) as exc:
            run.note(kind, type(exc).__name__)
            return None
        run.note(kind, status)
        return status, headers, text


class FormFields(HTMLParser):
    """The fields a browser would send from one form: name → values, in page order."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.fields = form_id, False, []
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or ("name" not in a and tag != "option"):
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self.fields.append([a["name"], a.get("value", "on" if kind == "checkbox" else "")])
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields.append([a["name"], ""])
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append([self.select, a.get("value", "")])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.fields[-1][1] += data


def form_of(html: str, form_id: str = "post_form") -> list[list[str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    fields = parser.fields
    for pair in fields:
        # A textarea's first newline belongs to the markup, as browsers read it.
        if pair[1].startswith("\n"):
            pair[1] = pair[1][1:]
    return fields


def with_values(fields: list[list[str]], **values: str) -> list[list[str]]:
    kept = [pair for pair in fields if pair[0] not in values]
    return kept + [[k, v] for k, v in values.items()]
