"""A dealer's contacts come from the dealers service's DealerContactsChanged (no one registers them
by hand): its overdue events reach them; a contact dropped is deactivated; a late, older event
changes nothing — over real NATS and the SMS gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notif_support import all_deliveries, from_sample, make_app, streams, uid

from aftersales_shared.events import Contact, DealerContactsChangedV1, Envelope
from aftersales_testing.support import auth, publish, running, wait_until

SUP = auth("service_supervisor", sub="sup-1")


def contacts_changed(dealer_id: str, people: list[Contact], at: datetime) -> Envelope:
    data = DealerContactsChangedV1(
        dealer_id=dealer_id, name="浙江恒通机电", region="浙江", contacts=people, changed_at=at
    )
    return Envelope(data=data, subject=dealer_id)


async def recipients_of(client, dealer_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await client.get("/recipients", params={"dealer_id": dealer_id}, headers=SUP)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_dealers_contacts_are_its_recipients_and_follow_its_changes(
    databases, own_nats, servers
):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)  # no default quiet hours
    ref = uid()
    dealer_id = f"D-{ref}"
    chen = Contact(name="陈经理", phone="13900139001", email=f"chen-{ref}@dealer.example.cn")
    liu = Contact(name="刘工", phone="13900139002")
    t0 = datetime.now(UTC)
    async with running(app) as client:
        await publish(own_nats.url, contacts_changed(dealer_id, [chen, liu], t0))

        async def two_active():  # type: ignore[no-untyped-def]
            rows = await recipients_of(client, dealer_id)
            return rows if sum(r["active"] for r in rows) == 2 else None

        rows = await wait_until(two_active, what="the dealer's two contacts registered")
        assert {(r["name"], r["phone"]) for r in rows} == {
            ("陈经理", "+8613900139001"),
            ("刘工", "+8613900139002"),
        }
        assert all(r["groups"] == ["dealer"] for r in rows)

        overdue = from_sample("CardOverdue", dealer_id=dealer_id, serial_no=f"SN-{ref}")
        await publish(own_nats.url, overdue)
        sent = await wait_until(
            lambda: all_deliveries(client, event_id=overdue.id, status="sent", channel="sms", n=2),
            what="the card overdue SMS to both contacts",
        )
        assert {d["address"] for d in sent} == {"+8613900139001", "+8613900139002"}

        # 刘工 leaves; then an older event arrives late: it must not bring him back
        await publish(own_nats.url, contacts_changed(dealer_id, [chen], t0 + timedelta(minutes=5)))

        async def liu_gone():  # type: ignore[no-untyped-def]
            rows = await recipients_of(client, dealer_id)
            return {r["name"]: r["active"] for r in rows} == {"陈经理": True, "刘工": False}

        await wait_until(liu_gone, what="刘工 deactivated")
        stale = contacts_changed(dealer_id, [chen, liu], t0 + timedelta(minutes=1))
        marker = contacts_changed(f"{dealer_id}-other", [liu], t0 + timedelta(minutes=6))
        await publish(own_nats.url, stale)
        await publish(own_nats.url, marker)
        await wait_until(
            lambda: recipients_of(client, f"{dealer_id}-other"), what="the marker handled"
        )
        assert await liu_gone()
