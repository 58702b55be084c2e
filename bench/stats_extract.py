"""Figures reader: pages per second through the automatic reader over the statistics-page corpus, and the
time and peak memory of one 5 MB page.

The corpus is tests/fixtures/statpages/ (41 page shapes, 0.2–2 KB each: unit tables with total rows, tables
by level, merged headers, cards, prose, English pages, JSON endpoints, Windows-1258, cluttered pages,
several periods), read with each case's period setting, --passes times over. A national pass reads about
100 sources, so the figure shows whether the reader could ever be the bottleneck next to fetching.

A 100 KB page of the big page's shape stands for a portal's real statistics page (chrome, a table of ~400 units).
The 5 MB page is built here: a provincial report with page chrome, a two-row merged header table of
N units and a total row, and paragraphs of prose with dates, phone numbers and document numbers. It is
read in a fresh process; peak memory is that process's VmHWM (peak resident set) minus its resident set
after the imports, so lxml's C allocations count too.

    python bench/stats_extract.py [--passes 20] [--size-mb 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.crawlers.stats import extract  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "statpages"


def corpus_cases() -> list[tuple[bytes, str, str | None]]:
    cases = []
    for page in sorted(CORPUS.iterdir()):
        if page.suffix not in (".html", ".json") or ".expected." in page.name:
            continue
        expected = json.loads(page.with_name(f"{page.stem}.expected.json").read_text(encoding="utf-8"))
        content_type = "application/json" if page.suffix == ".json" else "text/html"
        for case in expected["cases"]:
            cases.append((page.read_bytes(), content_type, case["period"]))
    return cases


def big_page(size_mb: float) -> bytes:
    """A report page of about size_mb MB: chrome, a merged-header table of many units with a total row, prose."""
    head = (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Báo cáo</title></head><body>'
        "<header><nav>" + "".join(f'<a href="/m{i}">Mục {i}</a>' for i in range(200)) + "</nav></header>"
        "<h2>Tình hình tiếp nhận và giải quyết hồ sơ năm 2024</h2><table border=1>"
        '<tr><th rowspan="2">STT</th><th rowspan="2">Đơn vị</th><th colspan="4">Tiếp nhận</th>'
        '<th colspan="3">Đã giải quyết</th></tr><tr><th>Tổng số</th><th>Trực tuyến</th><th>Trực tiếp</th>'
        "<th>Bưu chính</th><th>Tổng số</th><th>Đúng hạn</th><th>Quá hạn</th></tr>"
    )
    prose = (
        "<p>Ngày 14/10/2024, thực hiện Quyết định số 846/QĐ-TTg, hội nghị số {i} có {a} đại biểu của "
        "{b} đơn vị tham dự. Liên hệ: 0235.3812.345.</p>"
    )
    target = int(size_mb * 1_000_000)
    rows, paragraphs = [], []
    size = len(head.encode())
    i = 0
    totals = [0] * 7
    while size < target * 0.7:
        i += 1
        values = [3000 + i % 997, 2000 + i % 991, 900 + i % 5, 100 + i % 5, 2900 + i % 997, 2800 + i % 983, 3]
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        cells = "".join(f"<td>{v:,}</td>".replace(",", ".") for v in values)
        row = f"<tr><td>{i}</td><td>Phường, xã số {i}</td>{cells}</tr>"
        rows.append(row)
        size += len(row.encode())
    total_row = "<tr><td></td><td><b>Tổng cộng</b></td>" + "".join(
        f"<td><b>{v:,}</b></td>".replace(",", ".") for v in totals
    ) + "</tr></table>"
    while size < target:
        paragraph = prose.format(i=len(paragraphs), a="150", b="18")
        paragraphs.append(paragraph)
        size += len(paragraph.encode())
    return (head + "".join(rows) + total_row + "<div>" + "".join(paragraphs) + "</div></body></html>").encode()


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(size_mb: float) -> None:
    body = big_page(size_mb)
    baseline = _rss_kb("VmRSS")
    started = time.perf_counter()
    result = extract(body, "text/html")
    elapsed = time.perf_counter() - started
    print(json.dumps({
        "bytes": len(body), "seconds": elapsed, "peak_kb": _rss_kb("VmHWM") - baseline,
        "received_total": result.figures["received_total"],
        "where": (result.evidence["received_total"] or {}).get("where"),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--size-mb", type=float, default=5.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.size_mb)
        return

    cases = corpus_cases()
    for body, content_type, period in cases:  # warm-up
        extract(body, content_type, None, period)
    started = time.perf_counter()
    for _ in range(args.passes):
        for body, content_type, period in cases:
            extract(body, content_type, None, period)
    elapsed = time.perf_counter() - started
    pages = len(cases) * args.passes
    kb = sum(len(b) for b, _, _ in cases) / len(cases) / 1024
    print(f"corpus: {len(cases)} page cases (mean {kb:.1f} KB) x {args.passes} passes = {pages} pages")
    print(f"  automatic reader: {pages / elapsed:8.1f} pages/s  ({1000 * elapsed / pages:.2f} ms a page)")
    print(f"  a national pass of 100 sources: {100 * elapsed / pages:.2f} s of reading")

    portal_page = big_page(0.1)
    started = time.perf_counter()
    for _ in range(args.passes):
        extract(portal_page, "text/html")
    each = (time.perf_counter() - started) / args.passes
    print(f"portal-sized page: {len(portal_page) / 1e3:.0f} KB (same shape as below): {1000 * each:.0f} ms a page, "
          f"{1 / each:.1f} pages/s")

    out = subprocess.run(
        [sys.executable, __file__, "--child", "--size-mb", str(args.size_mb)],
        capture_output=True, text=True, check=True,
    )
    big = json.loads(out.stdout)
    print(f"big page: {big['bytes'] / 1e6:.1f} MB (merged-header unit table with a total row, prose, chrome)")
    print(f"  read in {big['seconds']:.2f} s, peak memory +{big['peak_kb'] / 1024:.0f} MB over the process at rest")
    print(f"  received_total {big['received_total']} from {big['where']}")


if __name__ == "__main__":
    main()
