"""Reading and validating bulk imports: pure functions over bytes and plain values, the writes are
bulk_import's job.

- `tables`: a CSV or XLSX file read into rows keyed by header (limits, encodings, the header row, footers);
- `headers`: column headers as officers write them, mapped to fields;
- `values`: cell values (counts, indices, levels, procedure codes, addresses);
- `service_rows`, `report_rows`, `procedure_rows`: rows validated into ServiceRow, ReportRow, QuarterlyTable
  and ProcedureRow, with every bad row reported.
"""

from portal.services.importing.headers import (
    REPORT_FIELDS,
    REPORT_INDEX_FIELDS,
    header_score,
    normalize_header,
    procedure_field_for_header,
    report_field_for_header,
    service_field_for_header,
)
from portal.services.importing.procedure_rows import (
    SCOPES,
    ProcedureRow,
    parse_procedures,
    parse_scopes,
)
from portal.services.importing.report_rows import (
    QUARTERLY_FIELDS,
    QuarterlyRow,
    QuarterlyTable,
    ReportRow,
    parse_quarterly,
    parse_report,
)
from portal.services.importing.service_rows import (
    TEMPLATE_HEADERS,
    TEMPLATE_NOTE,
    TEMPLATE_TITLE,
    ServiceRow,
    iter_errors_text,
    parse_services,
    template_csv,
    template_xlsx,
)
from portal.services.importing.tables import (
    FOOTER_MAX_CELLS,
    HEADER_SCAN_ROWS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    MAX_NAME_LENGTH,
    ROW_KEY,
    ImportFileError,
    ImportTooLarge,
    ParseResult,
    Row,
    RowError,
    Table,
    error_collector,
    is_footer_line,
    map_columns,
    read_grid,
    read_table,
    row_number,
    row_text,
)
from portal.services.importing.values import (
    FULL_PROCEDURE_CODE_RE,
    PROCEDURE_CODE_RE,
    check_url,
    parse_count,
    parse_index,
    parse_level,
    procedure_code,
    procedure_code_problem,
)
from portal.text import fold

__all__ = [
    "FOOTER_MAX_CELLS",
    "FULL_PROCEDURE_CODE_RE",
    "HEADER_SCAN_ROWS",
    "ImportFileError",
    "ImportTooLarge",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "MAX_NAME_LENGTH",
    "PROCEDURE_CODE_RE",
    "ParseResult",
    "ProcedureRow",
    "QUARTERLY_FIELDS",
    "QuarterlyRow",
    "QuarterlyTable",
    "REPORT_FIELDS",
    "REPORT_INDEX_FIELDS",
    "ROW_KEY",
    "ReportRow",
    "Row",
    "RowError",
    "SCOPES",
    "ServiceRow",
    "TEMPLATE_HEADERS",
    "TEMPLATE_NOTE",
    "TEMPLATE_TITLE",
    "Table",
    "check_url",
    "error_collector",
    "fold",
    "header_score",
    "is_footer_line",
    "iter_errors_text",
    "map_columns",
    "normalize_header",
    "parse_count",
    "parse_index",
    "parse_level",
    "parse_procedures",
    "parse_quarterly",
    "parse_report",
    "parse_scopes",
    "parse_services",
    "procedure_code",
    "procedure_code_problem",
    "procedure_field_for_header",
    "read_grid",
    "read_table",
    "report_field_for_header",
    "row_number",
    "row_text",
    "service_field_for_header",
    "template_csv",
    "template_xlsx",
]
