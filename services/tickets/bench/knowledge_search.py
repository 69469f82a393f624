"""Knowledge-base search over 100,000 articles: the real tickets service's search and suggestions vs
the same SQL through raw asyncpg, with pg_trgm measured beside it.

    uv run python services/tickets/bench/knowledge_search.py [--articles 100000] [--queries 400]

One PostgreSQL database (created and dropped here) is migrated and filled with --articles approved
articles, generated (fixed seed) from 8 product lines × 10 models, 40 components, 20 symptoms, 8
cause categories and step templates; their terms come from the service's own tokeniser
(tickets.textsearch with jieba, in --workers processes) and the tsvector from the same SQL
expression as an approval writes. Then, per query (a customer's wording of a component's symptom:
other words, fillers, a time, sometimes the model; a quarter of the free searches filtered by
product line or cause category), in rotating order:

- raw: the very statement the service sends (tickets.usecases.knowledge_search.pg_statement,
  compiled for asyncpg) with its terms (and which of them select: the uncommon ones, from
  pg_stats) computed beforehand, through one raw asyncpg connection;
- use case: knowledge_search.search() through SQLAlchemy (jieba on the words, then the statement);
- http: GET /knowledge/search?q=… on the real service (`python -m tickets`, uvicorn, JWT; NATS
  absent, it is not needed to search) over keep-alive HTTP, one request in flight;
- suggestions: GET /tickets/{no}/suggestions for tickets opened with the query's words.

It prints p50/p95/p99 of each, the ratios to raw, EXPLAIN of one query, and hit@3 (a top-3 article
about the same component and symptom). pg_trgm (--trgm, on by default): a GIN trigram index on
title || symptom, `%` with similarity(), the same queries: build time, size, latency and hit@3.
Nothing is installed; the pg_trgm extension is created in the bench database only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intake import ADMIN_URL, _pg, create_db, drop_db, wait_http  # noqa: E402

LINES = {  # product line: model prefix
    "数控机床": "XK",
    "液压站": "HP",
    "空压机": "KY",
    "注塑机": "ZS",
    "激光切割机": "JG",
    "包装机": "BZ",
    "冷水机": "LS",
    "输送线": "SS",
}
COMPONENTS = (
    "主轴 轴承 伺服电机 变频器 液压泵 电磁阀 编码器 传感器 控制板 触摸屏 皮带 齿轮箱 冷却泵 "
    "散热风扇 接触器 继电器 限位开关 刀库 导轨 丝杠 气缸 真空泵 加热管 温控器 压缩机 冷凝器 "
    "蒸发器 膨胀阀 油封 密封圈 电源模块 保险丝 急停按钮 光栅尺 润滑泵 过滤器 减速机 联轴器 "
    "刹车片 喷嘴"
).split()
# symptom: how an article names it, how customers say it (some words the synonym table knows,
# some it does not)
SYMPTOMS = {
    "noise": ("运转时异响", ["有噪音", "声音很大", "发出异常声响", "有杂音"]),
    "oil": ("漏油", ["渗油", "往外滴油", "有油渍"]),
    "heat": ("温度过高", ["发烫", "很烫", "过热"]),
    "vibration": ("振动大", ["抖动厉害", "震动明显", "晃动"]),
    "alarm": ("频繁报警", ["一直告警", "报错", "出现警报"]),
    "nostart": ("无法启动", ["开不了机", "不启动", "启动不了"]),
    "stop": ("运行中突然停机", ["死机", "自己停了", "宕机"]),
    "stuck": ("卡死", ["卡住不动", "卡顿", "卡滞"]),
    "pressure": ("压力不足", ["压力上不去", "压力偏低"]),
    "water": ("漏水", ["渗水", "滴水"]),
    "trip": ("跳闸", ["一开就跳闸", "空开跳了"]),
    "precision": ("加工精度下降", ["尺寸不准", "精度不够"]),
    "wear": ("磨损严重", ["磨坏了", "磨得厉害"]),
    "display": ("显示屏花屏", ["屏幕不亮", "黑屏", "显示乱码"]),
    "comm": ("通讯中断", ["通信失败", "连不上"]),
    "speed": ("转速不稳定", ["忽快忽慢", "速度波动"]),
    "cooling": ("不制冷", ["制冷效果差", "不冷"]),
    "air": ("气压不足", ["没气", "气压上不去"]),
    "burn": ("烧毁", ["烧了", "冒烟"]),
    "loose": ("松动", ["晃得厉害", "螺丝松了"]),
}
CAUSES = {
    "design": "设计余量不足",
    "material": "供应商来料不良",
    "manufacturing": "装配工艺不良",
    "transport": "运输途中磕碰",
    "installation": "安装调试不当",
    "misuse": "操作不当",
    "wear": "长期使用自然磨损",
    "unknown": "原因待分析",
}
CONTEXTS = [
    "连续运行两小时后出现",
    "冬季低温环境下开机时出现",
    "更换班次后发现",
    "设备搬迁后出现",
    "满负荷生产时明显",
    "保养后第二天出现",
    "",
]
STEPS = [
    "断电检查{c}",
    "更换{c}",
    "清洁{c}并重新紧固",
    "调整参数后试机",
    "检查线路连接和接地",
    "补充润滑油",
    "校准{c}零点",
    "更新控制程序",
]
FILLERS = ["客户反映", "用户来电说", "现场反馈", "", "经销商报修："]
WHEN = ["今天上午开始", "昨天晚上开始", "已经三天了", "", "开机就这样"]


def article(rng: random.Random, n: int) -> tuple[dict[str, Any], tuple[str, str]]:
    """One approved article and its family (component, symptom)."""
    line = rng.choice(list(LINES))
    model = f"{LINES[line]}-{rng.randint(1, 10) * 100}"
    component = rng.choice(COMPONENTS)
    key = rng.choice(list(SYMPTOMS))
    cause_key = rng.choice(list(CAUSES))
    said = SYMPTOMS[key][0]
    steps = [s.format(c=component) for s in rng.sample(STEPS, rng.randint(2, 4))]
    return {
        "title": f"{model} {component}{said}",
        "symptom": f"{model}{line}{component}{said}，{rng.choice(CONTEXTS)}",
        "cause_category": cause_key,
        "cause": f"{component}{CAUSES[cause_key]}",
        "steps": steps,
        "parts": [{"name": component, "quantity": rng.randint(1, 4)}],
        "product_model": model,
        "product_line": line,
        "source_ticket_no": f"SV-BENCH-{n:07d}",
    }, (component, key)


def query(rng: random.Random) -> tuple[str, dict[str, str], tuple[str, str]]:
    """A customer's words for a component's symptom, maybe a filter, and the family it is about."""
    component = rng.choice(COMPONENTS)
    key = rng.choice(list(SYMPTOMS))
    line = rng.choice(list(LINES))
    model = f"{LINES[line]}-{rng.randint(1, 10) * 100} " if rng.random() < 0.5 else ""
    words = (
        f"{rng.choice(FILLERS)}{model}{component}{rng.choice(SYMPTOMS[key][1])}，{rng.choice(WHEN)}"
    )
    filters: dict[str, str] = {}
    roll = rng.random()
    if roll < 0.125:
        filters["product_line"] = line
    elif roll < 0.25:
        filters["cause_category"] = rng.choice(list(CAUSES))
    return words, filters, (component, key)


def _sections(batch: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Worker process: each article's terms by weight, as an approval computes them."""
    from tickets.knowledge import ArticleContent
    from tickets.usecases.knowledge_search import sections

    return [sections(ArticleContent.from_dict(a)) for a in batch]


INSERT_PUBLISHED = """
INSERT INTO knowledge_published (article_id, revision, source_ticket_no, title, symptom,
  cause_category, cause, steps, parts, product_model, product_line, approved_by, approved_at,
  search_vector)
SELECT id, 1, t, ti, sy, cc, ca, st::json, pa::json, pm, pl, 'bench-tech', now(),
  setweight(to_tsvector('simple'::regconfig, a), 'A') || setweight(to_tsvector('simple'::regconfig,
  b), 'B') || setweight(to_tsvector('simple'::regconfig, c), 'C')
FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
  $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
  AS u(id, t, ti, sy, cc, ca, st, pa, pm, pl, a, b, c)
"""
INSERT_ARTICLES = """
INSERT INTO knowledge_articles (id, source_ticket_no, source_ticket_id, status, revision,
  published_revision, title, symptom, cause_category, cause, steps, parts, product_model,
  product_line, author, created_at, updated_at, reviewed_by, reviewed_at)
SELECT id, t, 'bench', 'approved', 1, 1, ti, sy, cc, ca, st::json, pa::json, pm, pl,
  'bench-eng', now(), now(), 'bench-tech', now()
FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
  $8::text[], $9::text[], $10::text[]) AS u(id, t, ti, sy, cc, ca, st, pa, pm, pl)
"""


async def load(conn: Any, n: int, workers: int, seed: int) -> list[tuple[str, str]]:
    """n approved articles (both tables), their families by article id − 1."""
    import json

    rng = random.Random(seed)
    made = [article(rng, i) for i in range(n)]
    rows = [a for a, _ in made]
    chunk = 2000
    batches = [rows[i : i + chunk] for i in range(0, n, chunk)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        terms = [t for part in pool.map(_sections, batches) for t in part]
    tokenised = time.perf_counter() - t0
    t0 = time.perf_counter()
    for start in range(0, n, 5000):
        part = list(zip(range(start + 1, start + 5001), rows[start : start + 5000]))
        cols = [
            [i for i, _ in part],
            *(
                [r[k] for _, r in part]
                for k in ("source_ticket_no", "title", "symptom", "cause_category", "cause")
            ),
            [json.dumps(r["steps"], ensure_ascii=False) for _, r in part],
            [json.dumps(r["parts"], ensure_ascii=False) for _, r in part],
            [r["product_model"] for _, r in part],
            [r["product_line"] for _, r in part],
        ]
        await conn.execute(INSERT_ARTICLES, *cols)
        sect = terms[start : start + 5000]
        await conn.execute(INSERT_PUBLISHED, *cols, *([s[k] for s in sect] for k in range(3)))
    await conn.execute("SELECT setval('knowledge_articles_id_seq', $1)", n)
    await conn.execute("VACUUM ANALYZE knowledge_articles")
    await conn.execute("VACUUM ANALYZE knowledge_published")
    print(
        f"  loaded {n:,} articles: jieba terms in {tokenised:.0f} s ({workers} processes), "
        f"insert + tsvector + VACUUM ANALYZE in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    return [f for _, f in made]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


def summary(times: list[float]) -> dict[str, float]:
    return {
        "n": len(times),
        "p50": pct(times, 0.5),
        "p95": pct(times, 0.95),
        "p99": pct(times, 0.99),
        "mean": statistics.fmean(times) if times else float("nan"),
    }


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = await fn()
    return (time.perf_counter() - t0) * 1000, result


def hit3(ids: list[int], family: tuple[str, str], families: list[tuple[str, str]]) -> bool:
    return any(families[i - 1] == family for i in ids[:3])


def start_service(url: str, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    from aftersales_tools.natsserver import free_port, wait_for_port

    port = free_port()
    env = os.environ | {
        "TICKETS_DATABASE_URL": url,
        "TICKETS_PORT": str(port),
        "TICKETS_NATS_URL": "nats://127.0.0.1:1",  # nothing there: searching needs no NATS
        "TICKETS_LOG_LEVEL": "WARNING",
        "AFTERSALES_LOCAL_DEV": "1",
    }
    log = open(tmp / "tickets.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "tickets"], env=env, stdout=log, stderr=log)
    wait_for_port(port, 60)
    wait_http(port)
    return proc, port


async def measure(
    url: str, conn: Any, port: int, queries: list[Any], families: list[Any], args: Any
) -> dict[str, Any]:
    import httpx
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    from aftersales_shared.auth import mint_token
    from aftersales_shared.settings import DEV_JWT_SECRET
    from tickets import textsearch
    from tickets.app import create_app
    from tickets.settings import TicketsSettings
    from tickets.usecases import knowledge_search as ks

    rt = create_app(TicketsSettings(database_url=url, nats_url="nats://127.0.0.1:1")).state[
        "runtime"
    ]
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    headers = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'bench', ['service_agent'])}"}
    pg_dialect = dialect()
    times: dict[str, list[float]] = {"raw": [], "usecase": [], "http": [], "suggestions": []}
    hits = {"tsvector": 0, "asked": 0}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        tickets = []
        for words, _, _ in queries[: args.tickets]:
            body = {
                "channel": "phone",
                "request_type": "quality_issue",
                "description": words,
                "customer_name": "散户",
                "contact": {"name": "赵工", "phone": "13912345678"},
                "use_default_policy": True,
            }
            r = await client.post("/tickets", json=body, headers=headers)
            r.raise_for_status()
            tickets.append(r.json()["ticket_no"])

        row = await conn.fetchrow(ks.COMMON_TERMS_SQL)
        common = ks.common_terms(row["elems"], row["freqs"]) if row else frozenset()
        print(f"  common terms (in > {ks.COMMON_SHARE:.0%} of the articles): {len(common)}")

        async def raw(words: str, filters: dict[str, str]) -> tuple[float, list[int]]:
            terms = textsearch.query_terms(words)  # not timed: the statement only
            match = ks.match_terms(terms, common)
            compiled = ks.pg_statement(terms, ks.KnowledgeFilters(**filters), 20, 0, match).compile(
                dialect=pg_dialect
            )
            sql, params = str(compiled), [compiled.params[n] for n in compiled.positiontup]
            ms, rows = await timed(lambda: conn.fetch(sql, *params))
            return ms, [r["article_id"] for r in rows]

        async def usecase(words: str, filters: dict[str, str]) -> tuple[float, list[int]]:
            async def run() -> list[int]:
                async with rt.sessions() as s:
                    found, _ = await ks.search(s, words, ks.KnowledgeFilters(**filters), 20, 0)
                return [h.article["article_id"] for h in found]

            return await timed(run)

        async def http(words: str, filters: dict[str, str]) -> tuple[float, list[int]]:
            ms, r = await timed(
                lambda: client.get(
                    "/knowledge/search", params={"q": words, **filters}, headers=headers
                )
            )
            r.raise_for_status()
            return ms, [h["article_id"] for h in r.json()["items"]]

        runners = {"raw": raw, "usecase": usecase, "http": http}
        for n, (words, filters, family) in enumerate(queries):
            names = list(runners)
            for name in names[n % 3 :] + names[: n % 3]:  # rotate who goes first
                ms, ids = await runners[name](words, filters)
                if n >= args.warmup:
                    times[name].append(ms)
                if name == "usecase" and n >= args.warmup and not filters:
                    hits["asked"] += 1
                    hits["tsvector"] += hit3(ids, family, families)
            if n < len(tickets):
                path = f"/tickets/{tickets[n]}/suggestions"
                ms, r = await timed(lambda path=path: client.get(path, headers=headers))
                r.raise_for_status()
                if n >= min(args.warmup, len(tickets) // 4):
                    times["suggestions"].append(ms)
    await rt.engine.dispose()
    return {"times": {k: summary(v) for k, v in times.items()}, "hits": hits}


async def explain(conn: Any, words: str) -> str:
    import json

    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    from tickets import textsearch
    from tickets.usecases import knowledge_search as ks

    terms = textsearch.query_terms(words)
    row = await conn.fetchrow(ks.COMMON_TERMS_SQL)
    match = ks.match_terms(terms, ks.common_terms(row["elems"], row["freqs"]) if row else set())
    compiled = ks.pg_statement(terms, ks.KnowledgeFilters(), 20, 0, match).compile(
        dialect=dialect()
    )
    params = [compiled.params[n] for n in compiled.positiontup]
    plan = json.loads(
        await conn.fetchval("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + str(compiled), *params)
    )[0]
    nodes, stack = [], [plan["Plan"]]
    while stack:
        node = stack.pop()
        if "Index Name" in node:
            nodes.append(f"{node['Node Type']} on {node['Index Name']}")
        stack.extend(node.get("Plans", []))
    matched = await conn.fetchval(
        "SELECT count(*) FROM knowledge_published "
        "WHERE search_vector @@ to_tsquery('simple'::regconfig, $1)",
        textsearch.tsquery(match),
    )
    return (
        f"{words!r} → {len(terms)} terms ({len(match)} selecting), {matched:,} matching articles "
        "ranked, "
        f"{plan['Execution Time']:.1f} ms, {', '.join(nodes) or 'no index'}"
    )


TRGM = (
    "SELECT article_id, similarity(title || ' ' || symptom, $1) AS s FROM knowledge_published "
    "WHERE (title || ' ' || symptom) % $1 ORDER BY s DESC, article_id DESC LIMIT 20"
)


async def trigram(conn: Any, queries: list[Any], families: list[Any], warmup: int) -> dict:
    """pg_trgm on the same articles and queries: an expression GIN index, `%` and similarity(), at
    the default threshold (0.3) and at 0.1."""
    await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    t0 = time.perf_counter()
    await conn.execute(
        "CREATE INDEX ix_bench_trgm ON knowledge_published "
        "USING gin ((title || ' ' || symptom) gin_trgm_ops)"
    )
    built = time.perf_counter() - t0
    await conn.execute("ANALYZE knowledge_published")
    out: dict[str, Any] = {
        "built_s": built,
        "size_mb": await conn.fetchval("SELECT pg_relation_size('ix_bench_trgm')") / 2**20,
        "tsvector_gin_mb": await conn.fetchval(
            "SELECT pg_relation_size('ix_knowledge_published_search')"
        )
        / 2**20,
        "runs": {},
    }
    for threshold in (0.3, 0.1):
        await conn.execute(f"SET pg_trgm.similarity_threshold = {threshold}")
        times, asked, hit = [], 0, 0
        for n, (words, filters, family) in enumerate(queries):
            ms, rows = await timed(lambda words=words: conn.fetch(TRGM, words))
            if n >= warmup:
                times.append(ms)
                if not filters:
                    asked += 1
                    hit += hit3([r["article_id"] for r in rows], family, families)
        out["runs"][threshold] = {"times": summary(times), "asked": asked, "hit": hit}
    return out


def report(r: dict[str, Any], trgm: dict[str, Any] | None) -> None:
    t = r["times"]
    raw = t["raw"]
    print("  latency (ms)            n     p50     p95     p99   p95/raw p95")
    for name, label in (
        ("raw", "raw asyncpg (same SQL)"),
        ("usecase", "use case (jieba + ORM)"),
        ("http", "GET /knowledge/search"),
        ("suggestions", "GET …/suggestions"),
    ):
        s = t[name]
        if not s["n"]:
            continue
        print(
            f"  {label:22s} {s['n']:5d} {s['p50']:7.1f} {s['p95']:7.1f} {s['p99']:7.1f}"
            f"   {s['p95'] / raw['p95']:6.2f}x"
        )
    h = r["hits"]
    print(
        f"  hit@3 tsvector: {h['tsvector']}/{h['asked']} = {h['tsvector'] / max(h['asked'], 1):.0%}"
    )
    if trgm:
        print(
            f"  pg_trgm: GIN trigram index built in {trgm['built_s']:.1f} s, "
            f"{trgm['size_mb']:.0f} MB (the tsvector GIN: {trgm['tsvector_gin_mb']:.0f} MB)"
        )
        for threshold, run in trgm["runs"].items():
            s = run["times"]
            print(
                f"    similarity >= {threshold}: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms, "
                f"p99 {s['p99']:.1f} ms; hit@3 {run['hit']}/{run['asked']} = "
                f"{run['hit'] / max(run['asked'], 1):.0%}"
            )
    print(
        f"search p95 over the articles: http {t['http']['p95']:.1f} ms (target < 100 ms), "
        f"ratio http/raw p95 {t['http']['p95'] / raw['p95']:.2f}, "
        f"use case/raw p95 {t['usecase']['p95'] / raw['p95']:.2f}"
    )


async def bench(args: argparse.Namespace) -> None:
    import asyncpg

    from aftersales_shared.migrations import upgrade

    name = f"bench_kb_{uuid.uuid4().hex[:8]}"
    url = await create_db(args.admin_url, name)
    tmp = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    proc = None
    try:
        await upgrade("tickets", url)
        conn = await asyncpg.connect(**_pg(url))
        try:
            families = await load(conn, args.articles, args.workers, args.seed)
            rng = random.Random(args.seed + 1)
            queries = [query(rng) for _ in range(args.queries + args.warmup)]
            proc, port = start_service(url, tmp)
            print(f"  service: python -m tickets, pid {proc.pid}, port {port}", flush=True)
            print("  plan: " + await explain(conn, queries[0][0]), flush=True)
            r = await measure(url, conn, port, queries, families, args)
            trgm = await trigram(conn, queries, families, args.warmup) if args.trgm else None
            report(r, trgm)
        finally:
            await conn.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        await drop_db(args.admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400, help="timed queries")
    parser.add_argument("--warmup", type=int, default=20, help="untimed queries first")
    parser.add_argument("--tickets", type=int, default=100, help="tickets asked for suggestions")
    parser.add_argument("--workers", type=int, default=2, help="processes tokenising articles")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--trgm", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL", ADMIN_URL))
    args = parser.parse_args()
    # the development JWT secret and no NATS user: a local benchmark (the service it starts too)
    os.environ.setdefault("AFTERSALES_LOCAL_DEV", "1")
    print(
        f"knowledge search benchmark: {args.articles:,} articles, {args.queries} queries "
        f"(+{args.warmup} warm-up), {os.cpu_count()} CPUs",
        flush=True,
    )
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
