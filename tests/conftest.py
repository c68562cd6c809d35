import pytest
from django.test import Client

from tests.factories import make_user


@pytest.fixture
def staff_user(db):
    return make_user(
        "editor", staff=True, is_superuser=True, first_name="Edith", last_name="Editor"
    )


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client
