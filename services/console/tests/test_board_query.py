"""The board's choices turned into the tickets API's query and back into links (no HTTP)."""

from __future__ import annotations

from console.board import BoardQuery
from console.people import SessionUser


def test_a_board_page_asks_the_tickets_api_for_its_slice_and_links_keep_the_filters():
    me = SessionUser("sup-zhang", "张主管", ("service_supervisor",), "t", 0.0)
    q = BoardQuery(tab="risk", urgency="critical", dealer="D-ZJ-01", page=3)
    params = q.api_params(me, 25)
    assert params["offset"] == 50 and params["limit"] == 25 and params["order"] == "deadline"
    assert (params["sla_state"], params["urgency"], params["dealer_id"]) == (
        "warning",
        "critical",
        "D-ZJ-01",
    )
    assert q.link(page=4) == "/board?tab=risk&urgency=critical&dealer=D-ZJ-01&page=4"
    assert q.link(tab="new", page=1) == "/board?tab=new&urgency=critical&dealer=D-ZJ-01"
    mine = BoardQuery(tab="mine", engineer="eng-wang").api_params(me, 25)
    assert mine["assignee_id"] == "sup-zhang"  # 我的 is mine, whatever the engineer filter says
    assert BoardQuery(tab="new").api_params(me, 25)["unassigned"] == "true"
