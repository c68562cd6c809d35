"""Calling the API as a script does: a client holding one credential, or none."""

from django.test import Client

from notes.models.tokens import ApiToken

API = "/api/v1"


class Caller:
    """An API client holding one credential (or none)."""

    def __init__(self, secret: str | None = None, client: Client | None = None) -> None:
        self.client = client or Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}

    def get(self, path: str, **params):
        return self.client.get(API + path, params, **self.headers)

    def send(self, method: str, path: str, data=None):
        call = getattr(self.client, method)
        return call(API + path, data, content_type="application/json", **self.headers)

    def post(self, path: str, data=None):
        return self.send("post", path, data)

    def patch(self, path: str, data=None):
        return self.send("patch", path, data)

    def delete(self, path: str):
        return self.send("delete", path)


def token_for(user, scope: str, **extra) -> str:
    token, secret = ApiToken.issue(user=user, name=f"{scope} token", scope=scope)
    if extra:
        ApiToken.objects.filter(pk=token.pk).update(**extra)
    return secret
