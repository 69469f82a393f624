"""Chinese text as search terms for the knowledge base: jieba's words, normalised, stop words out,
synonyms of the trade folded into one word, so 主轴有噪音 finds an article about 主轴异响.

The same terms go into the index (a `tsvector` on PostgreSQL, an FTS5 table on SQLite) and into
the query, so both databases search the same words. jieba loads its dictionary once per process
(`load()`: the service calls it at startup, off the event loop; ~0.6 s, ~25 MB)."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable

import jieba

_LOADED = threading.Event()
_LOCK = threading.Lock()

# words of the trade jieba's general dictionary would cut apart (or not know)
TRADE_WORDS = (
    "异响 异音 杂音 怪声 渗油 漏油 漏液 滴油 渗水 漏水 发烫 过热 抖动 震动 振动 告警 报错 卡死 "
    "卡住 卡滞 卡顿 死机 宕机 停机 磨损 跳闸 主轴 伺服 变频器 液压泵 电磁阀 编码器 传感器 控制板 "
    "主板 轴承 皮带 齿轮箱 冷却液 润滑油 密封圈 接触器 继电器 显示屏 触摸屏 限位开关 散热风扇 "
    "油温 气压 真空泵 润滑泵 冷却泵 减速机 联轴器 光栅尺 温控器 加热管 膨胀阀 电机 刀库 换刀 "
    "不启动 无法启动 开不了机 不转 不出水 不制冷"
).split()

# variant → the one word both the index and the query use
SYNONYMS = {
    **dict.fromkeys(["噪音", "噪声", "声响", "响声", "杂音", "怪声", "异音"], "异响"),
    **dict.fromkeys(["渗油", "漏液", "滴油", "跑油"], "漏油"),
    **dict.fromkeys(["渗水", "滴水"], "漏水"),
    **dict.fromkeys(["发烫", "发热", "高温", "烫手"], "过热"),
    **dict.fromkeys(["震动", "抖动", "晃动", "颤动"], "振动"),
    **dict.fromkeys(["告警", "警报", "报错"], "报警"),
    **dict.fromkeys(["死机", "宕机"], "停机"),
    **dict.fromkeys(["卡住", "卡滞", "卡顿"], "卡死"),
    **dict.fromkeys(["不启动", "开不了机", "起不来"], "无法启动"),
    **dict.fromkeys(["马达"], "电机"),
    **dict.fromkeys(["屏幕", "显示器"], "显示屏"),
}

# function words and words every service request has: they would match half the knowledge base
STOP_WORDS = frozenset(
    (
        "的 了 在 是 有 和 与 或 就 也 都 很 还 又 后 时 中 上 下 把 被 让 给 对 从 到 这 那 个 次 "
        "日 月 年 号 点 分 秒 等 及 其 并 而 但 我 你 他 她 它 们 吗 呢 吧 啊 呀 说 要 会 能 可 没 "
        "不 一 两 几 多 少 已 将 再 才 只 用 来 去 过 着 之 于 为 以 因 所 如 若 则 即 便 请 该 此 "
        "各 某 每 得 地 按 里 内 外 前 左 右 处 "
        "我们 你们 他们 客户 用户 公司 设备 机器 问题 情况 现象 出现 发现 开始 时候 目前 现在 "
        "一直 已经 没有 不能 无法 需要 进行 一下 一个 这个 那个 今天 昨天 上午 下午 晚上 左右 "
        "非常 比较 有点 有些 经常 偶尔 突然 然后 之后 以后 以前 之前 但是 而且 因为 所以 如果 "
        "可以 可能 应该 是否 怎么 什么 为什么 请问 麻烦 谢谢 您好 你好 反映 反馈 报修 维修 处理 "
        "这样 那样 这么 那么 来电 打电话 电话 现场 不了 一天 两天 三天 几天 好几天 一周 最近"
    ).split()
)

MAX_QUERY_TERMS = 16
# a product model or part number such as XK-200, HP-50/2, 6205.2RS: one term (xk200), not "xk" and
# "200" apart (every model numbered 200 would match)
_CODE = re.compile(r"[A-Za-z0-9]+(?:[-_./][A-Za-z0-9]+)+")


def load() -> None:
    """jieba's dictionary and the trade words, once per process (thread-safe, idempotent)."""
    if _LOADED.is_set():
        return
    with _LOCK:
        if _LOADED.is_set():
            return
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        for word in TRADE_WORDS:
            jieba.add_word(word, freq=50_000)
        _LOADED.set()


def _normal(word: str) -> str | None:
    """One jieba word as a search term, or None for punctuation, stop words and bare dates."""
    word = word.strip().lower()
    if not word or not all(_is_term_char(c) for c in word):
        return None
    if word in STOP_WORDS or (word.isascii() and len(word) < 2):
        return None
    if word.isdigit() and len(word) <= 2:  # days, months, hours
        return None
    return SYNONYMS.get(word, word)


def _is_term_char(c: str) -> bool:
    return ("a" <= c <= "z") or ("0" <= c <= "9") or ("\u4e00" <= c <= "\u9fff")


def terms(text: str | None, *, precise: bool = False) -> list[str]:
    """Search terms of a text in order, repeats kept (they weigh in the ranking). An article is
    indexed with jieba's search mode (a long word and the words inside it: 润滑泵, 润滑, 泵); a
    query is cut precisely (润滑泵), so it finds what the article says without matching every
    article that mentions 润滑 or 泵."""
    if not text:
        return []
    load()
    cut = jieba.cut if precise else jieba.cut_for_search
    text = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    at = 0
    for code in _CODE.finditer(text):
        out.extend(_words(cut(text[at : code.start()])))
        out.append(re.sub(r"[-_./]", "", code.group()).lower())
        at = code.end()
    out.extend(_words(cut(text[at:])))
    return out


def _words(words: Iterable[str]) -> list[str]:
    return [t for t in map(_normal, words) if t is not None]


def document(*texts: str | None) -> str:
    """Texts as one space-separated string of terms: what the index stores for one section."""
    return " ".join(t for text in texts for t in terms(text))


def query_terms(*texts: str | None) -> list[str]:
    """The distinct terms of a query (cut precisely), first-seen first, at most
    MAX_QUERY_TERMS."""
    seen: dict[str, None] = {}
    for text in texts:
        for term in terms(text, precise=True):
            seen.setdefault(term, None)
    return list(seen)[:MAX_QUERY_TERMS]


def tsquery(query: Iterable[str]) -> str:
    """PostgreSQL: any of the terms (`to_tsquery('simple', …)`; terms hold only letters, digits
    and CJK, so nothing needs quoting)."""
    return " | ".join(query)


def fts5_query(query: Iterable[str]) -> str:
    """SQLite FTS5: any of the terms, each a quoted string."""
    return " OR ".join(f'"{t}"' for t in query)


# ts_rank's default weights of the sections A, B, C (PostgreSQL's {0.1, 0.2, 0.4, 1.0} for D..A)
WEIGHTS = (1.0, 0.4, 0.2)
_ZETA2 = 1.64493406685  # the sum of 1/i² (PostgreSQL's constant)


def ts_rank(query: list[str], sections: tuple[str, ...]) -> float:
    """PostgreSQL's ts_rank(setweight(A) || … || setweight(C), a | b | …) computed from the
    sections' term strings (tsrank.c, calc_rank_or), so SQLite ranks as PostgreSQL does: per query
    term, its occurrences' weights w_j / j² with the heaviest counted as first; the mean over the
    query's distinct terms."""
    weights: dict[str, list[float]] = {}
    for section, weight in zip(sections, WEIGHTS):
        for term in (section or "").split():
            weights.setdefault(term, []).append(weight)
    distinct = set(query)
    total = 0.0
    for term in distinct:
        found = weights.get(term)
        if not found:
            continue
        resj = sum(w / (j + 1) ** 2 for j, w in enumerate(found))
        jm = max(range(len(found)), key=lambda j: (found[j], -j))
        wjm = found[jm]
        total += (wjm + resj - wjm / (jm + 1) ** 2) / _ZETA2
    return total / len(distinct) if distinct else 0.0
