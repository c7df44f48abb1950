-- Every cell is sound, checked in one pass over the cell table: it belongs to a stored report
-- ('orphan'), its codes are in the codebook for its report's layout ('not_in_codebook'), and
-- its report prints it once ('duplicate'). Per report, the codes it prints are the bits of a
-- bitstring over the codes in use (one small state per report, no hash table of every cell);
-- codes are told apart by their 64-bit hash (a shared hash could only make a report look
-- duplicated, never hide a duplicate). 'too_many_codes': more codes in use than the bitstring holds.
WITH used AS (
    SELECT DISTINCT table_code, row_code, col_code, hash(table_code, row_code, col_code) AS h FROM cell
),
codes AS (
    SELECT *, CAST(row_number() OVER (ORDER BY h) - 1 AS INTEGER) AS k FROM used
),
allowed AS (  -- per layout, the codes in use the codebook allows in it ('any': a report whose layout is unknown)
    SELECT l.layout, bitstring_agg(c.k, 0, 1023) FILTER (c.k < 1024) AS bits
    FROM codes c
    JOIN codebook rc ON rc.table_code = c.table_code AND rc.axis = 'row' AND rc.code = c.row_code
    JOIN codebook cc ON cc.table_code = c.table_code AND cc.axis = 'col' AND cc.code = c.col_code
    JOIN (VALUES ('2019'), ('2021'), ('any')) l(layout)
      ON l.layout = 'any' OR (list_contains(string_split(rc.layouts, '|'), l.layout)
                              AND list_contains(string_split(cc.layouts, '|'), l.layout))
    GROUP BY l.layout
),
per_report AS (
    SELECT c.report_id, count(*) AS n, bitstring_agg(k, 0, 1023) FILTER (k < 1024) AS bits
    FROM cell c JOIN codes ON codes.h = hash(c.table_code, c.row_code, c.col_code)
    GROUP BY c.report_id
)
SELECT 'orphan' AS problem, p.report_id FROM per_report p ANTI JOIN report r USING (report_id)
UNION ALL
SELECT 'duplicate', report_id FROM per_report WHERE n <> bit_count(bits)
UNION ALL
SELECT 'not_in_codebook', p.report_id
FROM per_report p JOIN report r USING (report_id) LEFT JOIN allowed a ON a.layout = coalesce(r.layout, 'any')
WHERE a.bits IS NULL OR bit_count(p.bits & ~a.bits) > 0
UNION ALL
SELECT 'too_many_codes', NULL FROM codes HAVING count(*) > 1024
