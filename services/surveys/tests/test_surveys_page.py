"""The public survey page on a real database: answering once, wrong input, languages, bad links,
guessing limited per client IP (and who counts as the client)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.deadlines

GOOD = {
    "efficiency": "5",
    "attitude": "4",
    "professionalism": "5",
    "recommend": "9",
    "comment": "工程师很专业",
}


# ---------------------------------------------------------------- the public page
async def test_customer_answers_once_and_the_link_is_then_refused(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        data, path = await kit.invite()
        r = await client.get(path)
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        assert '<html lang="zh-CN">' in r.text and "效率" in r.text and data.ticket_no in r.text
        assert (
            r.headers["referrer-policy"] == "no-referrer"
            and r.headers["cache-control"] == "no-store"
        )
        for d in ("efficiency", "attitude", "professionalism"):
            assert f'<fieldset id="{d}-field"' in r.text and f'for="{d}-5"' in r.text
        assert "<script" not in r.text

        r = await client.post(path, data=GOOD)
        assert r.status_code == 303 and r.headers["location"].endswith("/thanks?lang=zh-CN")
        r = await client.get(f"{path}/thanks")
        assert r.status_code == 200 and "感谢" in r.text

        survey = await kit.survey_of(data.ticket_id)
        assert survey.status == "answered"
        assert (survey.answer.efficiency, survey.answer.recommend, survey.answer.method) == (
            5,
            9,
            "web",
        )
        (answered,) = await kit.events("SurveyAnswered", data.ticket_no)
        assert answered["low_score"] is False and answered["recorded_by_agent"] is None
        assert answered["answered_via"] == "web"
        assert answered["engineer_id"] == "eng-zhang" and answered["comment"] == "工程师很专业"

        r = await client.get(path)
        assert r.status_code == 409 and "<h2>该调查已提交</h2>" in r.text
        r = await client.post(path, data=GOOD | {"efficiency": "1"})
        assert r.status_code == 409 and "已提交" in r.text
        assert await kit.count_answers(survey.id) == 1
        assert len(await kit.events("SurveyAnswered", data.ticket_no)) == 1


async def test_low_score_is_flagged_for_a_follow_up(make_kit):
    kit = await make_kit(low_score_threshold=2)
    async with kit.client() as client:
        data, path = await kit.invite()
        r = await client.post(
            path,
            data={
                "efficiency": "2",
                "attitude": "4",
                "professionalism": "4",
                "comment": "到场太慢",
            },
        )
        assert r.status_code == 303
        (answered,) = await kit.events("SurveyAnswered", data.ticket_no)
        assert answered["low_score"] is True and (answered["efficiency"], answered["attitude"]) == (
            2,
            4,
        )
        r = await client.get(f"{path}/thanks")
        assert "客服主管会尽快与您联系" in r.text


async def test_wrong_input_is_shown_next_to_the_field_and_nothing_is_stored(make_kit):
    kit = await make_kit(comment_max_chars=200)
    async with kit.client() as client:
        data, path = await kit.invite()
        survey = await kit.survey_of(data.ticket_id)
        cases = [
            ({"attitude": "4", "professionalism": "5"}, "efficiency", "请选择一个分数"),
            (GOOD | {"efficiency": "6"}, "efficiency", "分数超出范围"),
            (GOOD | {"attitude": "0"}, "attitude", "分数超出范围"),
            (GOOD | {"professionalism": "-3"}, "professionalism", "请选择列表中的一个分数"),
            (GOOD | {"recommend": "42"}, "recommend", "0–10"),
            (GOOD | {"comment": "慢" * 201}, "comment", "意见最多 200 个字，当前 201 个字"),
        ]
        for form, field, message in cases:
            r = await client.post(path, data=form)
            assert r.status_code == 422, (field, r.status_code)
            assert f'<p class="error" id="{field}-error">' in r.text and message in r.text, field
            assert 'role="alert"' in r.text and f'href="#{field}-field"' in r.text
        # what the customer already chose is kept in the form
        r = await client.post(
            path,
            data={
                "efficiency": "4",
                "attitude": "9",
                "professionalism": "5",
                "comment": "<b>x</b>",
            },
        )
        assert 'id="efficiency-4" name="efficiency" value="4" checked' in r.text
        assert "&lt;b&gt;x&lt;/b&gt;" in r.text and "<b>x</b>" not in r.text
        assert await kit.count_answers(survey.id) == 0
        assert (await kit.survey_of(data.ticket_id)).status == "invited"


async def test_english_page_on_request(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        _, path = await kit.invite()
        r = await client.get(path, params={"lang": "en"})
        assert (
            '<html lang="en">' in r.text and "Efficiency" in r.text and "Professionalism" in r.text
        )
        r = await client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert "Attitude" in r.text
        r = await client.post(f"{path}?lang=en", data={"lang": "en", "efficiency": "3"})
        assert r.status_code == 422 and "Please choose a score" in r.text
        r = await client.post(f"{path}?lang=en", data=GOOD | {"lang": "en"})
        assert r.headers["location"].endswith("?lang=en")
        r = await client.get(path, params={"lang": "en"})
        assert r.status_code == 409 and "already answered" in r.text


async def test_unknown_malformed_and_expired_links_get_clear_pages(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        data, path = await kit.invite()
        for bad in ("/s/" + "A" * 43, "/s/short", "/s/" + path[3:-1] + "!", f"{path}x/thanks"):
            r = await client.get(bad)
            assert r.status_code == 404 and "调查链接无效" in r.text, bad
            assert r.headers["content-type"].startswith("text/html") and "Traceback" not in r.text
        r = await client.get(
            "/s/%00%27", headers={"accept": "text/html"}
        )  # a control character: the input layer
        assert (
            r.status_code == 400
            and "请求地址无效" in r.text
            and r.headers["content-type"].startswith("text/html")
        )
        r = await client.post("/s/" + "B" * 43, data=GOOD)
        assert r.status_code == 404

        await kit.sql(
            "UPDATE surveys SET expires_at = :t WHERE ticket_id = :id",
            t=datetime.now(UTC) - timedelta(minutes=1),
            id=data.ticket_id,
        )
        r = await client.get(path)
        assert (
            r.status_code == 410
            and "已过期" in r.text
            and r.headers["content-type"].startswith("text/html")
        )
        r = await client.post(path, data=GOOD)
        assert r.status_code == 410
        assert await kit.count_answers((await kit.survey_of(data.ticket_id)).id) == 0


async def test_oversized_submission_is_refused_with_a_page(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        _, path = await kit.invite()
        r = await client.post(path, data=GOOD | {"comment": "x" * 200_000})
        assert (
            r.status_code == 413
            and "提交内容过大" in r.text
            and "text/html" in r.headers["content-type"]
        )


async def test_two_submissions_at_once_store_exactly_one_answer(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        data, path = await kit.invite()
        forms = [GOOD | {"efficiency": str(i % 5 + 1)} for i in range(6)]
        results = await asyncio.gather(*(client.post(path, data=f) for f in forms))
        codes = sorted(r.status_code for r in results)
        assert codes == [303] + [409] * 5, codes
        survey = await kit.survey_of(data.ticket_id)
        assert await kit.count_answers(survey.id) == 1
        assert len(await kit.events("SurveyAnswered", data.ticket_no)) == 1


async def test_guessing_tokens_is_rate_limited_per_client_ip(make_kit):
    kit = await make_kit(guess_limit=3)
    async with kit.client() as client:
        _, path = await kit.invite()
        for i in range(3):
            assert (await client.get(f"/s/{'G' * 42}{i}")).status_code == 404
        r = await client.get(f"/s/{'G' * 42}9")
        assert (
            r.status_code == 429
            and "<h2>尝试次数过多</h2>" in r.text
            and int(r.headers["retry-after"]) > 0
        )
        r = await client.get(path)
        assert r.status_code == 429, "a blocked client learns nothing, not even about a real token"
        kit.app.state["guess_limiter"]._failures.clear()
        assert (await client.get(path)).status_code == 200


def test_forwarded_for_counts_only_from_a_trusted_proxy():
    from aftersales_shared.clientaddr import client_address

    assert (
        client_address("127.0.0.1", "1.2.3.4", []) == "127.0.0.1"
    )  # nothing trusted: the peer, always
    assert (
        client_address("203.0.113.9", "1.2.3.4", ["10.0.0.0/8"]) == "203.0.113.9"
    )  # not our proxy
    assert client_address("10.1.2.3", "1.2.3.4, 198.51.100.7", ["10.0.0.0/8"]) == "198.51.100.7"
    assert client_address("10.1.2.3", "198.51.100.7, 10.9.9.9", ["10.0.0.0/8"]) == "198.51.100.7"
    assert client_address("10.1.2.3", "not-an-ip", ["10.0.0.0/8"]) == "10.1.2.3"
    assert client_address("10.1.2.3", None, ["10.0.0.0/8"]) == "10.1.2.3"
    assert client_address(None, "1.2.3.4", ["10.0.0.0/8"]) == "unknown"


def test_spoofed_forwarded_for_does_not_reset_the_guess_limit_of_a_running_service(
    tmp_path, databases
):
    """The audit's way in: uvicorn believed X-Forwarded-For from loopback peers; 45 guesses from 3
    'addresses'."""
    import asyncio
    import os
    import subprocess
    import sys

    import httpx

    from aftersales_shared.migrations import upgrade
    from aftersales_tools.natsserver import free_port

    url = f"sqlite+aiosqlite:///{tmp_path / 'surveys.db'}"
    asyncio.run(upgrade("surveys", url))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYS_")}
    env |= {
        "SURVEYS_DATABASE_URL": url,
        "SURVEYS_PORT": str(port),
        "SURVEYS_GUESS_LIMIT": "5",
        "SURVEYS_NATS_URL": "nats://127.0.0.1:1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "surveys"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(300):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                import time

                time.sleep(0.1)
            codes = [
                client.get(
                    f"/s/{'Q' * 42}{i % 10}", headers={"x-forwarded-for": f"198.51.100.{i % 3}"}
                ).status_code
                for i in range(45)
            ]
        assert codes[:5] == [404] * 5 and set(codes[5:]) == {429}, codes
    finally:
        proc.terminate()
        proc.wait(15)
