-- Every cell is sound, checked in one pass over the cell table: it belongs to a stored report
-- ('orphan'), its codes are in the codebook for its report's layout ('not_in_codebook'), its
-- report prints it once ('duplicate'), and each report has the cells it was loaded with
-- ('miscounted': report.n_cells, which `gongkai stats` reports, differs). The codes are numbered from the codebook (a few
-- hundred), not from a scan of the cells; per report, the codes it prints are the bits of a
-- bitstring over those numbers (one small state per report, no hash table of every cell). A cell
-- is matched to its code by the 64-bit hash of its three codes; a code outside the codebook has
-- no number and makes its report 'not_in_codebook' (its repeats are not counted as duplicates
-- too). 'too_many_codes': more codes in the codebook than the bitstring holds.
WITH codes AS (  -- every code the codebook defines, numbered; a code outside it has no number
    SELECT t.table_code, r.code AS row_code, c.code AS col_code,
           hash(t.table_code, r.code, c.code) AS h,
           string_split(r.layouts, '|') AS row_layouts, string_split(c.layouts, '|') AS col_layouts
    FROM (SELECT DISTINCT table_code FROM codebook) t
    JOIN codebook r ON r.table_code = t.table_code AND r.axis = 'row'
    JOIN codebook c ON c.table_code = t.table_code AND c.axis = 'col'
),
numbered AS (SELECT *, CAST(row_number() OVER (ORDER BY h) - 1 AS INTEGER) AS k FROM codes),
allowed AS (
    SELECT l.layout, bitstring_agg(k, 0, 1023) AS bits
    FROM numbered JOIN (VALUES ('2019'), ('2021'), ('any')) l(layout)
      ON l.layout = 'any' OR (list_contains(row_layouts, l.layout) AND list_contains(col_layouts, l.layout))
    GROUP BY l.layout
),
per_report AS MATERIALIZED (
    SELECT c.report_id, count(*) AS n, count(k) AS known, bitstring_agg(k, 0, 1023) FILTER (k IS NOT NULL) AS bits
    FROM cell c LEFT JOIN numbered n ON n.h = hash(c.table_code, c.row_code, c.col_code)
    GROUP BY c.report_id
)
SELECT 'orphan' AS problem, p.report_id FROM per_report p ANTI JOIN report r USING (report_id)
UNION ALL
SELECT 'duplicate', report_id FROM per_report WHERE known <> coalesce(bit_count(bits), 0)
UNION ALL
SELECT 'not_in_codebook', p.report_id
FROM per_report p JOIN report r USING (report_id) LEFT JOIN allowed a ON a.layout = coalesce(r.layout, 'any')
WHERE p.known < p.n OR a.bits IS NULL OR bit_count(p.bits & ~a.bits) > 0
UNION ALL
SELECT 'miscounted', r.report_id
FROM report r LEFT JOIN per_report p USING (report_id)
WHERE r.n_cells IS DISTINCT FROM coalesce(p.n, 0)
UNION ALL
SELECT 'too_many_codes', NULL FROM numbered HAVING count(*) > 1024
