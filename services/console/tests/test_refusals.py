"""The two helpers every form controller shares (http/pages.py): `signed_in` answers a request
without a session by the way to sign in again and a role that may not by the 403 page in the
words given; `refusal` turns a refused form into the status and words to show — the console's
FormError at the form's status, the service's 4xx in its own words — and raises everything
else again for the error pages (a failed service; a 404 unless the form shows it)."""

from __future__ import annotations

import time

import pytest
from litestar import Request
from litestar.response import Redirect, Template

from console.forms import FormError
from console.http.pages import Refusal, refusal, signed_in
from console.people import SessionUser
from console.upstream import UpstreamError


def _request(roles: tuple[str, ...] | None, path: str = "/sales/contracts/new") -> Request:
    session = (
        {
            "sub": "u-1",
            "name": "王芳",
            "roles": list(roles),
            "token": "t",
            "expires_at": time.time() + 3600,
        }
        if roles is not None
        else {}
    )
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "root_path": "",
        "path": path,
        "query_string": b"q=1",
        "headers": [],
        "session": session,
    }
    return Request(scope)  # type: ignore[arg-type]


def test_signed_in_without_a_session_sends_to_sign_in_with_the_way_back() -> None:
    answer = signed_in(_request(None), "sales", zh="仅限销售", en="sales only")
    assert isinstance(answer, Redirect)
    assert answer.url == "/login?next=/sales/contracts/new%3Fq%3D1"


def test_signed_in_refuses_a_role_that_may_not_in_the_words_given() -> None:
    answer = signed_in(_request(("agent",)), "sales", "sales_manager", zh="仅限销售", en="sales")
    assert isinstance(answer, Template)
    assert answer.status_code == 403
    assert (answer.context["zh"], answer.context["en"]) == ("仅限销售", "sales")


@pytest.mark.parametrize("roles", [("sales",), ("sales_manager", "agent"), ("admin",)])
def test_signed_in_admits_any_role_named_and_the_admin(roles: tuple[str, ...]) -> None:
    user = signed_in(_request(roles), "sales", "sales_manager", zh="仅限销售", en="sales")
    assert isinstance(user, SessionUser) and user.roles == roles


def test_signed_in_with_no_roles_named_admits_anyone_signed_in() -> None:
    user = signed_in(_request(("dealer",)))
    assert isinstance(user, SessionUser) and user.roles == ("dealer",)


def test_a_form_error_is_shown_at_the_forms_status() -> None:
    assert refusal(FormError("请填写客户名称")) == Refusal(400, "请填写客户名称")
    assert refusal(FormError("开票日期格式不对"), form_status=422) == (422, "开票日期格式不对")


@pytest.mark.parametrize("status", [400, 403, 409, 422])
def test_the_services_4xx_is_shown_in_its_words_and_status(status: int) -> None:
    said = refusal(UpstreamError("parts", status, "该申请已开票，不能撤回"))
    assert (said.status, said.text) == (status, "该申请已开票，不能撤回")


def test_a_404_is_the_error_page_unless_the_form_shows_it() -> None:
    gone = UpstreamError("dealers", 404, "repair record not found")
    with pytest.raises(UpstreamError) as raised:
        refusal(gone)
    assert raised.value is gone
    assert refusal(gone, show_404=True) == (404, "repair record not found")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_failed_service_is_always_the_error_page(status: int) -> None:
    failed = UpstreamError("tickets", status, "无法连接 (unreachable)")
    for show_404 in (False, True):
        with pytest.raises(UpstreamError) as raised:
            refusal(failed, show_404=show_404)
        assert raised.value is failed


def test_anything_else_is_raised_as_it_is() -> None:
    with pytest.raises(KeyError):
        refusal(KeyError("contract_no"))
