-- Every cell's codes are in the codebook for the report's layout.
SELECT c.report_id, c.table_code, c.row_code, c.col_code
FROM cell c
JOIN report r USING (report_id)
LEFT JOIN codebook rc ON rc.table_code = c.table_code AND rc.axis = 'row' AND rc.code = c.row_code
LEFT JOIN codebook cc ON cc.table_code = c.table_code AND cc.axis = 'col' AND cc.code = c.col_code
WHERE rc.code IS NULL OR cc.code IS NULL
   OR NOT list_contains(string_split(rc.layouts, '|'), r.layout)
   OR NOT list_contains(string_split(cc.layouts, '|'), r.layout);
