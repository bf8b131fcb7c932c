"""Property-based requests made from /api/openapi.json by schemathesis, against gunicorn on a real Redis: no 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conftest import free_port
from tests.stack import running_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    # no worker: what is queued stays queued, which is all these requests need
    with running_stack(
        tmp_path_factory.mktemp("stack"), redis_server, free_port(), workers=0, UPLOAD_RATE_LIMIT="20/minute"
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def user(stack):
    return stack.create_user("fuzzer")


@pytest.fixture(scope="module")
def api(stack):
    return schemathesis.openapi.from_url(f"{stack.url}/api/openapi.json")


def test_no_request_from_the_document_gets_a_5xx(api, stack, user):
    # schemathesis's own pytest plugin does not load under pytest 9: hypothesis drives each operation here
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def no_5xx(case):
            response = case.call(base_url=stack.url, headers={"Authorization": user.headers["Authorization"]},
                                 timeout=30)
            where = f"{case.method} {case.formatted_path}"
            assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
            if response.status_code >= 400:
                assert response.json()["error"], f"{where}: every error says what to do"

        no_5xx()
