-- Every cell's codes are in the codebook for the report's layout (checked once per code and
-- layout in use, with one report that prints it).
WITH used AS (
    SELECT r.layout, c.table_code, c.row_code, c.col_code, min(c.report_id) AS report_id
    FROM cell c JOIN report r USING (report_id)
    GROUP BY ALL
)
SELECT u.report_id, u.table_code, u.row_code, u.col_code
FROM used u
LEFT JOIN codebook rc ON rc.table_code = u.table_code AND rc.axis = 'row' AND rc.code = u.row_code
LEFT JOIN codebook cc ON cc.table_code = u.table_code AND cc.axis = 'col' AND cc.code = u.col_code
WHERE rc.code IS NULL OR cc.code IS NULL
   OR NOT list_contains(string_split(rc.layouts, '|'), u.layout)
   OR NOT list_contains(string_split(cc.layouts, '|'), u.layout)
