"""Sending for real: email to a running SMTP server, webhooks and Slack messages to a running
HTTP receiver. Each outcome says whether it worked and, if not, whether retrying can help."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from notify_servers import Answer, SmtpServer, free_port

from fireline import __version__
from fireline.config import Settings
from fireline.notify.notice import IncidentRef, Notice
from fireline.notify.render import render_email, render_slack, render_webhook
from fireline.notify.transports import (
    EMAIL_NOT_CONFIGURED,
    post_slack,
    post_webhook,
    send_email,
    sign,
    verify,
)

NOTICE = Notice(
    event="obligation.missed",
    headline="Public update overdue",
    body="The status page has not been updated for 15 minutes.",
    incident=IncidentRef(
        reference="INC-42",
        title="Checkout is down",
        severity="SEV1",
        status="investigating",
        url="https://fireline.example.com/incidents/42",
    ),
    facts=(("Due", "10:15 UTC"),),
)
SECRET = "whsec_3f9a"


# --- Email -------------------------------------------------------------------------------------


def test_an_email_arrives_with_text_and_html_parts_and_proper_headers(smtp_server):
    outcome = send_email(
        smtp_server.settings(),
        to="rita@example.com",
        message=render_email(NOTICE),
        message_id="<delivery-7@fireline.example.com>",
    )

    assert (outcome.ok, outcome.status_code, outcome.error) == (True, 250, None)
    [received] = smtp_server.received
    assert received.rcpt_tos == ["rita@example.com"]
    mail = received.message
    assert mail["From"] == "Fireline <fireline@example.com>"
    assert mail["To"] == "rita@example.com"
    assert mail["Subject"] == "[SEV1 INC-42] Public update overdue"
    assert mail["Message-ID"] == "<delivery-7@fireline.example.com>"
    assert mail["Date"]
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in mail.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # the last is the one clients prefer
    assert "not been updated for 15 minutes" in received.part("text/plain")
    assert '<a href="https://fireline.example.com/incidents/42"' in received.part("text/html")


def test_a_retry_keeps_the_message_id_so_clients_see_one_message(smtp_server):
    for _ in range(2):
        send_email(
            smtp_server.settings(),
            to="rita@example.com",
            message=render_email(NOTICE),
            message_id="delivery-7@fireline.example.com",
        )

    assert [m["Message-ID"] for m in smtp_server.messages] == [
        "<delivery-7@fireline.example.com>"
    ] * 2


def test_without_a_message_id_each_email_gets_one_from_the_sender_domain(smtp_server):
    send_email(smtp_server.settings(), to="rita@example.com", message=render_email(NOTICE))

    [mail] = smtp_server.messages
    assert mail["Message-ID"].endswith("@example.com>")


def test_a_mailbox_the_server_refuses_for_good_is_a_permanent_failure(smtp_server):
    smtp_server.reject_next(code=550, reason="5.1.1 No such user")

    outcome = send_email(
        smtp_server.settings(), to="nobody@example.com", message=render_email(NOTICE)
    )

    assert not outcome.ok
    assert outcome.status_code == 550
    assert outcome.permanent
    assert "550 5.1.1 No such user" in outcome.error
    assert smtp_server.messages == []


def test_a_server_asking_to_try_later_is_a_transient_failure(smtp_server):
    smtp_server.reject_next(code=451, reason="4.7.1 Greylisted, try again later", stage="data")

    first = send_email(smtp_server.settings(), to="rita@example.com", message=render_email(NOTICE))
    second = send_email(smtp_server.settings(), to="rita@example.com", message=render_email(NOTICE))

    assert (first.ok, first.status_code, first.permanent) == (False, 451, False)
    assert "Greylisted" in first.error
    assert second.ok
    assert len(smtp_server.messages) == 1


def test_an_unreachable_smtp_server_is_a_transient_failure_with_a_clear_error():
    settings = Settings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none")

    outcome = send_email(settings, to="rita@example.com", message=render_email(NOTICE))

    assert not outcome.ok
    assert not outcome.permanent
    assert outcome.status_code is None
    assert outcome.error.startswith("Could not connect to the SMTP server 127.0.0.1:")


def test_email_that_is_not_configured_says_which_setting_to_set():
    outcome = send_email(Settings(smtp_host=""), to="rita@example.com", message={})

    assert outcome == type(outcome)(ok=False, error=EMAIL_NOT_CONFIGURED, permanent=False)
    assert "FIRELINE_SMTP_HOST" in outcome.error


def test_an_invalid_address_fails_for_good_without_contacting_the_server(smtp_server):
    outcome = send_email(smtp_server.settings(), to="rita", message=render_email(NOTICE))

    assert (outcome.ok, outcome.permanent) == (False, True)
    assert "@-sign" in outcome.error
    assert smtp_server.messages == []


def test_logging_in_with_the_configured_credentials():
    with SmtpServer(login=("fireline", "s3cret")) as server:
        good = server.settings(smtp_username="fireline", smtp_password="s3cret")
        bad = server.settings(smtp_username="fireline", smtp_password="wrong")

        delivered = send_email(good, to="rita@example.com", message=render_email(NOTICE))
        refused = send_email(bad, to="rita@example.com", message=render_email(NOTICE))

        assert delivered.ok
        assert (refused.ok, refused.status_code, refused.permanent) == (False, 535, True)
        assert "refused the SMTP login" in refused.error
        assert "wrong" not in refused.error
        assert len(server.messages) == 1


def test_asking_for_starttls_from_a_server_without_it_names_the_setting(smtp_server):
    settings = smtp_server.settings(smtp_security="starttls")

    outcome = send_email(settings, to="rita@example.com", message=render_email(NOTICE))

    assert (outcome.ok, outcome.permanent) == (False, False)
    assert "FIRELINE_SMTP_SECURITY" in outcome.error


# --- Webhooks ----------------------------------------------------------------------------------


def post(webhook_receiver, clock, *, secret=SECRET, url=None, settings=None, delivery_id=17):
    return post_webhook(
        settings or webhook_receiver.settings(),
        url=url or webhook_receiver.url("/fireline"),
        message=render_webhook(NOTICE),
        secret=secret,
        delivery_id=delivery_id,
        event=NOTICE.event,
        now=clock.now(),
    )


def test_a_signed_webhook_is_accepted_by_a_receiver_that_checks_the_signature(
    webhook_receiver, clock
):
    webhook_receiver.secret = SECRET
    webhook_receiver.now = clock.now

    outcome = post(webhook_receiver, clock)

    assert (outcome.ok, outcome.status_code) == (True, 200)
    [request] = webhook_receiver.requests
    assert request.signature_valid
    assert request.path == "/fireline"
    assert request.json() == render_webhook(NOTICE)
    assert request.headers["X-Fireline-Delivery"] == "17"
    assert request.headers["X-Fireline-Event"] == "obligation.missed"
    assert request.headers["X-Fireline-Timestamp"] == str(int(clock.now().timestamp()))
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == f"Fireline/{__version__}"


def test_a_webhook_without_a_secret_is_sent_unsigned(webhook_receiver, clock):
    outcome = post(webhook_receiver, clock, secret=None)

    assert outcome.ok
    [request] = webhook_receiver.requests
    assert "X-Fireline-Signature" not in request.headers


def test_a_receiver_rejecting_the_signature_fails_the_delivery_for_good(webhook_receiver, clock):
    webhook_receiver.secret = "the-receivers-secret"
    webhook_receiver.now = clock.now

    outcome = post(webhook_receiver, clock, secret="a-stale-secret")

    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, 401, True)
    assert "bad signature" in outcome.error
    [request] = webhook_receiver.requests
    assert request.signature_valid is False


def test_a_receiver_whose_clock_is_ten_minutes_ahead_refuses_the_request_as_stale(
    webhook_receiver, clock
):
    webhook_receiver.secret = SECRET
    webhook_receiver.now = lambda: clock.now() + timedelta(minutes=10)

    outcome = post(webhook_receiver, clock)

    assert (outcome.ok, outcome.status_code) == (False, 401)
    assert webhook_receiver.requests[0].signature_valid is False


def test_a_receiver_failing_twice_then_recovering_sees_one_delivery_id(webhook_receiver, clock):
    webhook_receiver.script([500, 503, 200])

    outcomes = [post(webhook_receiver, clock) for _ in range(3)]

    assert [(o.ok, o.status_code, o.permanent) for o in outcomes] == [
        (False, 500, False),
        (False, 503, False),
        (True, 200, False),
    ]
    assert {r.headers["X-Fireline-Delivery"] for r in webhook_receiver.requests} == {"17"}


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        (500, False),
        (502, False),
        (429, False),  # rate limited: later
        (408, False),  # request timeout: later
        (425, False),  # too early: later
        (400, True),
        (403, True),
        (404, True),
        (410, True),
    ],
)
def test_whether_an_http_error_is_worth_retrying(webhook_receiver, clock, status, permanent):
    webhook_receiver.script([Answer(status, "receiver says no")])

    outcome = post(webhook_receiver, clock)

    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, status, permanent)
    assert outcome.error.startswith(f"127.0.0.1 answered {status} ")
    assert outcome.error.endswith(": receiver says no")


def test_a_long_error_page_is_quoted_briefly(webhook_receiver, clock):
    webhook_receiver.script([Answer(500, "<html>" + "stack trace line\n" * 5000)])

    outcome = post(webhook_receiver, clock)

    assert len(outcome.error) < 300
    assert outcome.error.endswith("…")


def test_a_redirect_is_a_permanent_failure_that_asks_for_the_final_url(webhook_receiver, clock):
    location = "https://hooks.example.net/services/T0/B0/secret-token"
    webhook_receiver.script([Answer(301, headers={"Location": location})])

    outcome = post(webhook_receiver, clock)

    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, 301, True)
    assert "https://hooks.example.net/…" in outcome.error
    assert "configure the final URL" in outcome.error
    assert "secret-token" not in outcome.error
    assert len(webhook_receiver.requests) == 1  # not followed


def test_a_private_target_is_refused_unless_the_admin_allowed_it(webhook_receiver, clock):
    locked_down = webhook_receiver.settings(webhook_allow_private_targets=False)

    outcome = post(webhook_receiver, clock, settings=locked_down)

    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, None, True)
    assert "loopback" in outcome.error
    assert webhook_receiver.requests == []


def test_the_request_goes_to_the_checked_address_under_the_original_host_name(
    webhook_receiver, clock
):
    outcome = post(webhook_receiver, clock, url=webhook_receiver.url(host="localhost"))

    assert outcome.ok
    [request] = webhook_receiver.requests
    assert request.headers["Host"] == f"localhost:{webhook_receiver.port}"


def test_an_unreachable_receiver_is_a_transient_failure(clock, webhook_receiver):
    url = f"http://127.0.0.1:{free_port()}/hook"

    outcome = post(webhook_receiver, clock, url=url)

    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, None, False)
    assert outcome.error.startswith("Could not connect to 127.0.0.1")


def test_a_receiver_too_slow_to_answer_is_a_transient_failure(webhook_receiver, clock):
    webhook_receiver.script([Answer(200, delay=1.0)])

    outcome = post(webhook_receiver, clock, settings=webhook_receiver.settings(webhook_timeout=0.2))

    assert (outcome.ok, outcome.permanent) == (False, False)
    assert outcome.error == "127.0.0.1 did not answer within 0.2 s."


def test_a_host_name_that_does_not_resolve_is_a_transient_failure(clock, webhook_receiver):
    outcome = post(webhook_receiver, clock, url="https://fireline-test.invalid/hook")

    assert (outcome.ok, outcome.permanent) == (False, False)
    assert outcome.error.startswith("Could not look up fireline-test.invalid")


# --- Signatures, as a receiver checks them -----------------------------------------------------


def test_the_signature_is_the_documented_hmac_of_timestamp_dot_body():
    expected = hmac.new(b"whsec_3f9a", b'1767607200.{"a":1}', hashlib.sha256).hexdigest()

    assert sign("whsec_3f9a", 1767607200, b'{"a":1}') == f"v1={expected}"


def test_verify_accepts_a_fresh_genuine_request(clock):
    sent_at = clock.now()
    signature = sign(SECRET, int(sent_at.timestamp()), b'{"ok":true}')

    clock.advance(minutes=4)

    assert verify(
        SECRET,
        signature=signature,
        timestamp=str(int(sent_at.timestamp())),
        body=b'{"ok":true}',
        now=clock.now(),
    )


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"now_shift": timedelta(minutes=6)}, "replayed six minutes later"),
        ({"now_shift": -timedelta(minutes=6)}, "dated six minutes in the future"),
        ({"body": b'{"ok":false}'}, "body changed on the way"),
        ({"secret": "someone-elses"}, "signed with another secret"),
        ({"signature": "v1=00"}, "signature forged"),
        ({"signature": "v1=é"}, "signature not even ASCII"),
        ({"timestamp": "yesterday"}, "timestamp not a number"),
        ({"timestamp": ""}, "timestamp missing"),
    ],
)
def test_verify_rejects_what_a_receiver_must_not_trust(clock, change, why):
    sent = int(clock.now().timestamp())
    body = b'{"ok":true}'
    signature = sign(SECRET, sent, body)

    genuine = verify(
        change.get("secret", SECRET),
        signature=change.get("signature", signature),
        timestamp=change.get("timestamp", str(sent)),
        body=change.get("body", body),
        now=clock.now() + change.get("now_shift", timedelta(0)),
    )

    assert not genuine, why


# --- Slack -------------------------------------------------------------------------------------


def test_a_slack_message_is_posted_as_json(webhook_receiver):
    message = render_slack(NOTICE)

    outcome = post_slack(
        webhook_receiver.settings(), url=webhook_receiver.url("/services/T0/B0/x"), message=message
    )

    assert (outcome.ok, outcome.status_code) == (True, 200)
    [request] = webhook_receiver.requests
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == message
    assert "X-Fireline-Signature" not in request.headers


def test_slacks_error_code_is_quoted_in_the_error(webhook_receiver):
    webhook_receiver.script([Answer(400, "invalid_payload")])

    outcome = post_slack(
        webhook_receiver.settings(), url=webhook_receiver.url(), message=render_slack(NOTICE)
    )

    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, 400, True)
    assert "invalid_payload" in outcome.error


def test_a_removed_slack_webhook_fails_for_good(webhook_receiver):
    webhook_receiver.script([Answer(404, "no_service")])

    outcome = post_slack(
        webhook_receiver.settings(), url=webhook_receiver.url(), message=render_slack(NOTICE)
    )

    assert (outcome.ok, outcome.permanent) == (False, True)
    assert "no_service" in outcome.error


def test_a_slack_url_to_a_private_address_is_refused(webhook_receiver):
    outcome = post_slack(Settings(), url=webhook_receiver.url(), message=render_slack(NOTICE))

    assert (outcome.ok, outcome.permanent) == (False, True)
    assert webhook_receiver.requests == []
