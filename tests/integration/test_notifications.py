"""Callbacks and mail through real processes: gunicorn, worker.py, an HTTP receiver and an SMTP server."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.receivers import HttpReceiver, MailReceiver
from tests.stack import ROOT, running_stack
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

RECEIVER_HOST = "127.0.0.2"  # the one loopback address callbacks may reach here; 127.0.0.1 stays forbidden
PUBLIC_URL = "https://conveyor.example.com"


def readme_verify():
    """The `verify` function exactly as the README's "Callbacks and e-mail" section gives it."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Callbacks and e-mail\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102  (our own README)
    return scope["verify"]


@pytest.fixture(scope="module")
def receiver():
    with HttpReceiver(RECEIVER_HOST) as receiver:
        yield receiver


@pytest.fixture(scope="module")
def trap():
    """Listens where refused callbacks point: it must never hear from Conveyor."""
    with HttpReceiver("127.0.0.1") as trap:
        yield trap


@pytest.fixture(scope="module")
def mail():
    with MailReceiver(login=("mailer", "s3cret-pw")) as mail:
        yield mail


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server, receiver, mail):
    with running_stack(
        tmp_path_factory.mktemp("stack"), redis_server, free_port(),
        CALLBACK_ALLOWED_NETWORKS=f"{RECEIVER_HOST}/32",
        NOTIFY_RETRY_INTERVALS="1,1,1,1",
        CALLBACK_TIMEOUT="5",
        MAIL_URL=f"{mail.url}?starttls=never",
        MAIL_FROM="Conveyor <conveyor@example.com>",
        PUBLIC_URL=PUBLIC_URL,
        FORCE_HTTPS="false",  # the links say https, as behind a router; the test talks to gunicorn directly
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def carol(stack):
    return stack.create_user("carol", email="carol@example.com")


@pytest.fixture(scope="module")
def dave(stack):
    return stack.create_user("dave")  # no e-mail address


@pytest.fixture(scope="module")
def ready_video(stack, carol, receiver, clips) -> dict:
    """One upload by carol, with a callback, converted to the end."""
    response = stack.upload(carol, clip(clips), callback_url=receiver.url("/ready"))
    assert response.status_code == 202
    body = stack.wait_final(carol, response.json()["id"])
    assert body["state"] == "ready"
    return body


def clip(clips) -> Path:
    return clips("c160x120", width=160, height=120, seconds=1, audio=False)


def settled(stack, session, video_id: str, kind: str) -> dict:
    """The video's delivery of that kind, once it is no longer pending."""

    def done():
        for delivery in stack.video(session, video_id)["deliveries"]:
            if delivery["kind"] == kind and delivery["status"] != "pending":
                return delivery
        return None

    return wait_until(done, timeout=60, what=f"the {kind} delivery of {video_id}")


def test_the_callback_is_signed_and_verifies_with_the_readme_recipe(stack, carol, receiver, ready_video):
    [request] = wait_until(lambda: receiver.at("/ready"), what="the callback")
    secret = carol.get(f"{stack.url}/api/account", timeout=10).json()["webhook_secret"]
    verify = readme_verify()
    assert verify(secret, request.headers["Conveyor-Signature"], request.body)
    assert not verify(secret, request.headers["Conveyor-Signature"], request.body.replace(b"ready", b"failed"))
    assert not verify("whsec_someone-elses", request.headers["Conveyor-Signature"], request.body)
    body = json.loads(request.body)
    assert body["event"] == "video.ready" and request.headers["Conveyor-Event"] == "video.ready"
    assert body["id"] == ready_video["id"] and body["state"] == "ready" and body["status"] == 1.0
    assert body["renditions"] and body["result_uri"]
    delivery = settled(stack, carol, ready_video["id"], "callback")
    assert delivery["status"] == "delivered" and request.headers["Conveyor-Delivery"] == delivery["id"]
    assert [a["http_status"] for a in delivery["attempts"]] == [200]


def test_the_mail_arrives_with_a_link_to_the_video(stack, carol, mail, ready_video):
    [received] = wait_until(lambda: mail.to("carol@example.com"), what="the mail")
    link = f"{PUBLIC_URL}/videos/{ready_video['id']}"
    message = received.message
    assert received.login == "mailer"
    assert message["From"] == "Conveyor <conveyor@example.com>" and message["To"] == "carol@example.com"
    assert "Ready" in message["Subject"]
    assert link in message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(("html",)).get_content()
    delivery = settled(stack, carol, ready_video["id"], "email")
    assert delivery["status"] == "delivered" and delivery["target"] == "carol@example.com"


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt(stack, dave, receiver, clips):
    receiver.script("/flaky", [500, 500])
    response = stack.upload(dave, clip(clips), callback_url=receiver.url("/flaky"))
    video_id = response.json()["id"]
    delivery = settled(stack, dave, video_id, "callback")
    assert delivery["status"] == "delivered" and delivery["attempt_count"] == 3
    assert [a["http_status"] for a in delivery["attempts"]] == [500, 500, 200]
    requests = receiver.at("/flaky")
    assert len(requests) == 3
    assert {r.headers["Conveyor-Delivery"] for r in requests} == {delivery["id"]}  # one delivery, three tries
    assert json.loads(requests[-1].body)["event"] == "video.ready"


def own_hostname() -> tuple[str, str]:
    """This machine's name and the one address it resolves to, when that address is not public (as a
    name in a private network's DNS would be)."""
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    except OSError:
        addresses = set()
    if len(addresses) != 1 or ipaddress.ip_address(next(iter(addresses))).is_global:
        pytest.skip(f"this machine's name {name!r} does not resolve to one non-public address")
    return name, addresses.pop()


@pytest.mark.parametrize("host", ["10.0.0.1", "169.254.169.254", "localhost", "[::1]", "0x7f.1"])
def test_a_callback_url_at_an_address_inside_the_network_is_refused_at_upload(stack, dave, trap, clips, host):
    def count() -> int:
        return dave.get(f"{stack.url}/api/videos", timeout=10).json()["total"]

    before = count()
    response = stack.upload(dave, clip(clips), callback_url=f"http://{host}:{trap.port}/inside")
    assert response.status_code == 400 and "which is not a public address" in response.json()["error"]
    assert count() == before, "nothing is kept of a refused upload"
    assert trap.received == []


def test_a_callback_name_that_resolves_inside_the_network_is_refused_recorded_and_never_connected(
    stack, dave, trap, receiver, clips
):
    """A name is resolved when the callback is sent (what it stands for may change): refused then."""
    name, address = own_hostname()
    url = f"http://{name}:{trap.port}/inside"
    response = stack.upload(dave, clip(clips), callback_url=url)
    assert response.status_code == 202
    video_id = response.json()["id"]
    delivery = settled(stack, dave, video_id, "callback")
    assert delivery["status"] == "refused" and delivery["target"] == url
    assert delivery["attempt_count"] == 1 and f"{address} is not a public address" in delivery["attempts"][0]["error"]
    assert trap.received == [] and receiver.at("/inside") == []
