"""Search relevance as citizens type: success@3, MRR@10 and the zero-result rate over a set of queries.

Builds the demo data plus N synthetic services (default 20,000) on each backend, then asks
GET /api/v1/services?q=… for every query of QUERIES (abbreviations, everyday words, no diacritics, typos,
extra words, word order, English) and compares the names of the first 10 results with the services that
answer it. An answer is a service name, or "~words" for any name containing those words in that order
(diacritics and case aside). Targets: success@3 >= 90 %, zero-result rate <= 2 %.
Usage: python bench/search_relevance.py [--services 20000] [--show-misses]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import analyze, backends, database  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.services import seed  # noqa: E402
from portal.text import fold  # noqa: E402

GPLX = ["Cấp đổi giấy phép lái xe", "Cấp giấy phép lái xe quốc tế", "~giay phep lai xe"]
SO_DO = ["Cấp đổi Giấy chứng nhận quyền sử dụng đất",
         "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
         "~giay chung nhan quyen su dung dat"]
BHYT = ["~the bhyt", "~bhyt", "~the bao hiem y te"]
BHXH = ["~so bhxh", "~bhxh", "~so bao hiem xa hoi"]
HO_CHIEU = ["Cấp hộ chiếu phổ thông", "~ho chieu pho thong"]
VISA = ["Cấp thị thực điện tử cho người nước ngoài"]
KHAI_SINH = ["Đăng ký khai sinh", "~giay khai sinh"]
KET_HON = ["Đăng ký kết hôn", "~giay chung nhan ket hon"]
XAY_DUNG = ["Cấp giấy phép xây dựng nhà ở riêng lẻ", "Cấp giấy phép xây dựng sửa chữa, cải tạo công trình",
            "~giay phep xay dung"]
DOANH_NGHIEP = ["Đăng ký doanh nghiệp qua mạng", "Đăng ký thành lập doanh nghiệp tư nhân",
                "~giay chung nhan dang ky doanh nghiep"]
HO_KD = ["Đăng ký thành lập hộ kinh doanh", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh",
         "~giay chung nhan ho kinh doanh"]
THUE_NOP = ["Nộp thuế điện tử"]
THUE_KHAI = ["Khai thuế điện tử"]
CO = ["Cấp giấy chứng nhận xuất xứ hàng hóa (C/O)", "~chung nhan xuat xu hang hoa"]
ATTP = ["Cấp giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "~giay chung nhan an toan thuc pham"]
SAO_Y = ["Chứng thực bản sao từ bản chính"]
THAT_NGHIEP = ["Giải quyết trợ cấp thất nghiệp"]
LLTP = ["Cấp Phiếu lý lịch tư pháp", "~phieu ly lich tu phap"]
LAO_DONG_NN = ["Cấp giấy phép lao động cho người nước ngoài", "~giay phep lao dong"]
DUOC = ["Cấp chứng chỉ hành nghề dược", "~chung chi hanh nghe duoc"]
KINH_DOANH_DUOC = ["Cấp giấy chứng nhận đủ điều kiện kinh doanh dược"]
RUOU = ["Cấp giấy phép bán lẻ rượu", "~giay phep ban le ruou"]
XANG = ["Cấp giấy chứng nhận đủ điều kiện kinh doanh xăng dầu"]
KARAOKE = ["Cấp giấy phép kinh doanh karaoke"]
NUOC = ["Cấp giấy phép khai thác nước dưới đất", "~giay phep khai thac nuoc mat"]
THCS = ["Chuyển trường đối với học sinh trung học cơ sở"]
VAN_BANG = ["Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", "Công nhận văn bằng do cơ sở nước ngoài cấp",
            "~van bang, chung chi"]
TRICH_LUC = ["Cấp bản sao trích lục hộ tịch", "~ban sao giay khai sinh"]
HAI_QUAN = ["Khai báo hải quan điện tử"]
NHAP_KHAU = ["Cấp giấy phép nhập khẩu tự động", "~giay phep nhap khau"]
DAU_TU = ["Cấp giấy chứng nhận đăng ký đầu tư", "~chung nhan dang ky dau tu"]
SHCN = ["Đăng ký quyền sở hữu công nghiệp"]
WEBSITE = ["Cấp giấy phép thiết lập trang thông tin điện tử tổng hợp"]
TAU = ["Cấp giấy chứng nhận đăng ký phương tiện thủy nội địa"]
THUOC = ["Cấp số đăng ký lưu hành thuốc"]
MY_PHAM = ["Công bố sản phẩm mỹ phẩm"]
KIEM_DICH = ["Cấp giấy chứng nhận kiểm dịch thực vật xuất khẩu", "~giay chung nhan kiem dich"]
XKLD = ["Đăng ký hợp đồng cung ứng lao động đi làm việc ở nước ngoài"]
NGAN_SACH = ["Đăng ký mã số đơn vị có quan hệ với ngân sách"]
DIEN = ["Cấp giấy phép hoạt động điện lực", "~giay phep hoat dong dien luc"]
BIEU_DIEN = ["Cấp giấy phép tổ chức biểu diễn nghệ thuật", "~giay phep to chuc bieu dien nghe thuat"]
DANG_KY_XE = ["~giay chung nhan dang ky xe"]
KHOANG_SAN = ["~giay phep khai thac khoang san"]
MOI_TRUONG = ["~giay phep moi truong"]
HDV = ["~the huong dan vien du lich"]
LU_HANH = ["~giay phep hoat dong du lich lu hanh"]
QUANG_CAO = ["~giay phep quang cao"]
MST = ["~ma so thue"]
TAN_SO = ["~giay phep su dung tan so vo tuyen dien"]
MXH = ["~giay phep thiet lap mang xa hoi"]
NHA_THUOC = ["~giay phep co so ban le thuoc"]
TAC_GIA = ["~giay chung nhan quyen tac gia"]
BENH_VIEN = ["~giay phep hoat dong benh vien"]
TRUONG = ["~giay phep thanh lap truong"]
VAN_TAI = ["~giay phep van tai"]
KCB = ["~chung chi hanh nghe kham benh, chua benh"]

# (query as typed, what kind of query it is, the services that answer it)
QUERIES: list[tuple[str, str, list[str]]] = [
    # abbreviations
    ("gplx", "abbreviation", GPLX), ("GPLX", "abbreviation", GPLX), ("doi gplx", "abbreviation", GPLX),
    ("attp", "abbreviation", ATTP), ("ATTP", "abbreviation", ATTP), ("giấy chứng nhận attp", "abbreviation", ATTP),
    ("dkkd", "abbreviation", HO_KD + DOANH_NGHIEP), ("đkkd hộ kinh doanh", "abbreviation", HO_KD),
    ("C/O", "abbreviation", CO), ("c/o", "abbreviation", CO), ("cap c/o", "abbreviation", CO),
    ("bhyt", "abbreviation", BHYT), ("the bhyt", "abbreviation", BHYT), ("cap lai the bhyt", "abbreviation", BHYT),
    ("bhxh", "abbreviation", BHXH), ("so bhxh", "abbreviation", BHXH), ("cấp lại sổ bhxh", "abbreviation", BHXH),
    ("bhtn", "abbreviation", THAT_NGHIEP + ["~bhtn"]),
    ("thcs", "abbreviation", THCS), ("chuyen truong thcs", "abbreviation", THCS),
    ("mst", "abbreviation", MST), ("cap mst", "abbreviation", MST), ("gpxd", "abbreviation", XAY_DUNG),
    ("gpkd karaoke", "abbreviation", KARAOKE), ("xklđ", "abbreviation", XKLD), ("xkld", "abbreviation", XKLD),
    ("hdv du lich", "abbreviation", HDV), ("cchn duoc", "abbreviation", DUOC), ("mã qhns", "abbreviation", NGAN_SACH),
    ("gcn qsdđ", "abbreviation", SO_DO), ("lltp", "abbreviation", LLTP), ("gpmt", "abbreviation", MOI_TRUONG),
    # everyday words
    ("bằng lái xe", "everyday", GPLX), ("đổi bằng lái", "everyday", GPLX), ("bang lai quoc te", "everyday", GPLX),
    ("sổ đỏ", "everyday", SO_DO), ("so hong", "everyday", SO_DO), ("sang tên sổ đỏ", "everyday", SO_DO),
    ("thành lập công ty", "everyday", DOANH_NGHIEP), ("mở công ty", "everyday", DOANH_NGHIEP),
    ("đăng ký công ty", "everyday", DOANH_NGHIEP), ("bảo hiểm thất nghiệp", "everyday", THAT_NGHIEP),
    ("sao y bản chính", "everyday", SAO_Y), ("công chứng bản sao", "everyday", SAO_Y), ("sao y", "everyday", SAO_Y),
    ("nộp thuế online", "everyday", THUE_NOP), ("khai thuế qua mạng", "everyday", THUE_KHAI),
    ("đóng thuế trực tuyến", "everyday", THUE_NOP), ("cà vẹt xe", "everyday", DANG_KY_XE),
    ("chuyển trường cấp 2", "everyday", THCS), ("xin chuyen truong cap hai", "everyday", THCS),
    ("giấy khai sinh cho con", "everyday", KHAI_SINH), ("làm giấy khai sinh", "everyday", KHAI_SINH),
    ("mất bằng lái xe", "everyday", GPLX), ("đăng ký cưới", "everyday", KET_HON), ("lý lịch tư pháp", "everyday", LLTP),
    ("xin phép xây nhà", "everyday", XAY_DUNG), ("sửa nhà", "everyday", XAY_DUNG),
    ("mở quán karaoke", "everyday", KARAOKE), ("bán rượu", "everyday", RUOU), ("cây xăng", "everyday", XANG),
    ("mở nhà thuốc", "everyday", NHA_THUOC + KINH_DOANH_DUOC), ("khoan giếng", "everyday", NUOC),
    ("nước ngầm", "everyday", NUOC), ("xuất khẩu lao động", "everyday", XKLD), ("bản quyền", "everyday", TAC_GIA),
    ("nhãn hiệu", "everyday", SHCN), ("website tin tức", "everyday", WEBSITE), ("mạng xã hội", "everyday", MXH),
    ("tàu thuyền", "everyday", TAU), ("visa thuốc", "everyday", THUOC), ("mỹ phẩm", "everyday", MY_PHAM),
    ("trợ cấp thất nghiệp", "everyday", THAT_NGHIEP), ("thông quan hàng hóa", "everyday", HAI_QUAN),
    ("bằng tốt nghiệp", "everyday", VAN_BANG), ("trích lục khai sinh", "everyday", TRICH_LUC),
    ("hộ cá thể", "everyday", HO_KD), ("show ca nhạc", "everyday", BIEU_DIEN), ("kinh doanh điện", "everyday", DIEN),
    # without diacritics
    ("dang ky khai sinh", "no diacritics", KHAI_SINH), ("dang ky ket hon", "no diacritics", KET_HON),
    ("cap ho chieu", "no diacritics", HO_CHIEU), ("ly lich tu phap", "no diacritics", LLTP),
    ("giay phep xay dung", "no diacritics", XAY_DUNG), ("chung thuc ban sao", "no diacritics", SAO_Y),
    ("cap doi giay phep lai xe", "no diacritics", GPLX), ("giay phep lao dong", "no diacritics", LAO_DONG_NN),
    ("chung chi hanh nghe duoc", "no diacritics", DUOC), ("ho kinh doanh", "no diacritics", HO_KD),
    ("khai bao hai quan", "no diacritics", HAI_QUAN), ("nop thue dien tu", "no diacritics", THUE_NOP),
    ("thi thuc dien tu", "no diacritics", VISA), ("kiem dich thuc vat", "no diacritics", KIEM_DICH),
    ("dang ky dau tu", "no diacritics", DAU_TU), ("giay phep ban le ruou", "no diacritics", RUOU),
    ("khai thac khoang san", "no diacritics", KHOANG_SAN), ("the huong dan vien", "no diacritics", HDV),
    ("giay phep quang cao", "no diacritics", QUANG_CAO), ("dang ky bien dong dat", "no diacritics", SO_DO),
    ("giay phep van tai", "no diacritics", VAN_TAI), ("cong bo my pham", "no diacritics", MY_PHAM),
    # typos
    ("giay phep xay dug", "typo", XAY_DUNG), ("giay phep lai se", "typo", GPLX), ("dang ki ket hon", "typo", KET_HON),
    ("dang ky khai sinhh", "typo", KHAI_SINH), ("ho chiue", "typo", HO_CHIEU), ("ly lic tu phap", "typo", LLTP),
    ("chung thuc ban sao tu ban chin", "typo", SAO_Y), ("giay phep lao dog", "typo", LAO_DONG_NN),
    ("cap the bao hiem y tee", "typo", BHYT), ("thi thuc dien tư", "typo", VISA),
    ("karaoke giay phepp", "typo", KARAOKE),
    ("dang ky kinh doanh ho ca the", "typo", HO_KD), ("khai bao hai quang", "typo", HAI_QUAN),
    ("giây phép xây dựng", "typo", XAY_DUNG), ("giấy phếp lái xe", "typo", GPLX),
    ("trợ cấp thất nghiêp", "typo", THAT_NGHIEP),
    ("chứng chỉ hành ngề dược", "typo", DUOC), ("kiem dinh thuc vat", "typo", KIEM_DICH),
    ("dang ky quyen so huu cong ngiep", "typo", SHCN), ("xuat xu hang hoa", "typo", CO),
    # extra words
    ("xin giấy phép xây dựng nhà", "extra words", XAY_DUNG),
    ("thủ tục đăng ký khai sinh cho con", "extra words", KHAI_SINH),
    ("cách làm hộ chiếu", "extra words", HO_CHIEU), ("làm thủ tục đăng ký kết hôn ở đâu", "extra words", KET_HON),
    ("tôi muốn xin giấy phép lao động cho người nước ngoài", "extra words", LAO_DONG_NN),
    ("hướng dẫn nộp thuế điện tử cho doanh nghiệp", "extra words", THUE_NOP),
    ("xin cấp phiếu lý lịch tư pháp số 2", "extra words", LLTP),
    ("thủ tục cấp đổi giấy phép lái xe ô tô", "extra words", GPLX),
    ("cách đăng ký thành lập hộ kinh doanh online", "extra words", HO_KD),
    ("xin giấy phép bán rượu cho cửa hàng", "extra words", RUOU),
    ("thủ tục chuyển trường cho học sinh", "extra words", THCS),
    ("làm sao chứng thực bản sao giấy tờ", "extra words", SAO_Y),
    ("xin giấy phép kinh doanh karaoke mới", "extra words", KARAOKE),
    ("cấp thẻ bảo hiểm y tế cho người dân", "extra words", BHYT),
    ("thẻ bảo hiểm y tế hết hạn thì làm thế nào", "extra words", BHYT),
    ("giấy phép hoạt động điện lực cho công ty", "extra words", DIEN),
    # word order
    ("hộ chiếu cấp", "word order", HO_CHIEU), ("khai sinh đăng ký", "word order", KHAI_SINH),
    ("lái xe giấy phép đổi", "word order", GPLX), ("xây dựng giấy phép", "word order", XAY_DUNG),
    ("thẻ bhyt cấp lại", "word order", BHYT), ("kết hôn đăng ký", "word order", KET_HON),
    ("thuế nộp điện tử", "word order", THUE_NOP), ("rượu bán lẻ giấy phép", "word order", RUOU),
    ("nghề dược chứng chỉ", "word order", DUOC), ("karaoke kinh doanh", "word order", KARAOKE),
    ("ngân sách mã số", "word order", NGAN_SACH), ("mỹ phẩm công bố", "word order", MY_PHAM),
    # English
    ("passport", "English", HO_CHIEU), ("visa", "English", VISA), ("e-visa", "English", VISA),
    ("driving licence", "English", GPLX), ("driver license", "English", GPLX), ("work permit", "English", LAO_DONG_NN),
    ("birth certificate", "English", KHAI_SINH + TRICH_LUC), ("marriage registration", "English", KET_HON),
    ("criminal record", "English", LLTP), ("business registration", "English", HO_KD + DOANH_NGHIEP),
    ("certificate of origin", "English", CO), ("customs declaration", "English", HAI_QUAN),
    ("health insurance card", "English", BHYT), ("tax payment online", "English", THUE_NOP),
    ("food safety certificate", "English", ATTP), ("building permit", "English", XAY_DUNG),
    ("trademark", "English", SHCN), ("cosmetics", "English", MY_PHAM), ("unemployment benefit", "English", THAT_NGHIEP),
    ("certified copy", "English", SAO_Y), ("import licence", "English", NHAP_KHAU), ("tour guide", "English", HDV),
]


def relevant(name: str, answers: list[str]) -> bool:
    folded = fold(name)
    for answer in answers:
        if answer.startswith("~"):
            if fold(answer[1:]) in folded:
                return True
        elif fold(answer) == folded:
            return True
    return False


def score(client, queries, exact: bool) -> tuple[float, float, float, dict, list]:
    """success@3 %, MRR@10, zero-result %, success per kind, misses."""
    hits3, rr, zero, misses = 0, 0.0, 0, []
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for q, kind, answers in queries:
        params = {"q": q, "per_page": 10, **({"exact": 1} if exact else {})}
        body = client.get("/api/v1/services", query_string=params).get_json()
        names = [item["name"] for item in body["items"]]
        zero += body["total"] == 0
        rank = next((i + 1 for i, name in enumerate(names) if relevant(name, answers)), None)
        found = rank is not None and rank <= 3
        hits3 += found
        rr += 1 / rank if rank else 0
        per_kind[kind][0] += found
        per_kind[kind][1] += 1
        if not found:
            misses.append((q, kind, names[:3]))
    n = len(queries)
    return 100 * hits3 / n, rr / n, 100 * zero / n, per_kind, misses


def run(backend: str, services: int, show_misses: bool) -> dict[str, float]:
    queries = QUERIES
    with database(backend, "relevance") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PORTAL_PAGE_CACHE_SECONDS": 0})
        with app.app_context():
            db.create_all()
            seed.seed_demo(db.session)
            seed.seed_synthetic(db.session, services)
            analyze(db)
            client = app.test_client()
            started = time.perf_counter()
            success, mrr, zero_rate, per_kind, misses = score(client, queries, exact=False)
            elapsed = time.perf_counter() - started
            typed = score(client, queries, exact=True)
            db.session.remove()
            db.engine.dispose()
    n = len(queries)
    print(f"[{backend}] {n} queries over the demo data + {services:,} synthetic services "
          f"({elapsed:.1f} s, {1000 * elapsed / n:.1f} ms a query through the API)")
    print(f"[{backend}] success@3 {success:.1f} % (target >= 90 %: {'met' if success >= 90 else 'NOT met'})  "
          f"MRR@10 {mrr:.3f}  zero-result rate {zero_rate:.1f} % (target <= 2 %: "
          f"{'met' if zero_rate <= 2 else 'NOT met'})")
    print(f"[{backend}] the words as typed (exact=1: no synonyms, typos or partial matches): success@3 "
          f"{typed[0]:.1f} %  MRR@10 {typed[1]:.3f}  zero-result rate {typed[2]:.1f} %")
    print(f"[{backend}] success@3 by kind: " + ", ".join(
        f"{kind} {100 * ok / total:.0f} % ({ok}/{total})" for kind, (ok, total) in per_kind.items()))
    if show_misses:
        for q, kind, names in misses:
            print(f"[{backend}]   miss ({kind}): {q!r} -> {names}")
    return {"success": success, "mrr": mrr, "zero": zero_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=20_000)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    for backend in backends():
        run(backend, args.services, args.show_misses)


if __name__ == "__main__":
    main()
