"""Catalogue imports as an officer reads them: full national codes, signature lines, changes in words."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from portal.models import Procedure
from tests.compliance.test_procedures_admin import upload, uploads  # noqa: F401 - fixture

SIGNED = (
    "Mã thủ tục,Tên thủ tục,Lĩnh vực,Phạm vi,Mức độ\n"
    "1.000178.000.00.00.H26,Đăng ký khai sinh,Hộ tịch,tỉnh,4\n"
    "1.000179,Đăng ký kết hôn,Hộ tịch,tỉnh,3\n"
    "\n"
    "Người lập biểu,,,Thủ trưởng đơn vị,\n"
    "Nguyễn Văn An,,,Trần Thị Bình,\n"
)


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))).split())


def test_full_codes_signature_lines_and_changes_in_words(db, runner, admin_client, uploads, tmp_path):  # noqa: F811
    path = tmp_path / "dm.csv"
    path.write_text(SIGNED, encoding="utf-8")
    result = runner.invoke(args=["import", "procedures", str(path)])
    assert result.exit_code == 0, result.output
    assert sorted(db.session.execute(select(Procedure.code)).scalars()) == ["1.000178", "1.000179"]
    changed = SIGNED.replace("Đăng ký kết hôn,Hộ tịch,tỉnh,3", "Đăng ký kết hôn có yếu tố nước ngoài,Hộ tịch,tỉnh,4")
    page = words(upload(admin_client, changed.encode()))
    assert "Cập nhật (Tên, Mức độ yêu cầu)" in page and "required_level" not in page
