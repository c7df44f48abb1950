-- A report version prints each cell once: per report, the number of cells equals the number of
-- distinct codes, counted as the bits of a bitstring over the codes in use (one small state per
-- report, no hash table of every cell). Codes are told apart by their 64-bit hash: two codes
-- sharing one could only make a report look duplicated, never hide a duplicate. The last row
-- flags more codes in use than the bitstring holds (cells_in_codebook fails then too).
WITH codes AS (
    SELECT h, CAST(row_number() OVER (ORDER BY h) - 1 AS INTEGER) AS k
    FROM (SELECT DISTINCT hash(table_code, row_code, col_code) AS h FROM cell)
),
per_report AS (
    SELECT c.report_id, count(*) AS n, bit_count(bitstring_agg(k, 0, 1023) FILTER (k < 1024)) AS distinct_codes
    FROM cell c JOIN codes ON codes.h = hash(c.table_code, c.row_code, c.col_code)
    GROUP BY c.report_id
)
SELECT report_id, n - distinct_codes AS duplicates FROM per_report WHERE n <> distinct_codes
UNION ALL
SELECT NULL, count(*) FROM codes HAVING count(*) > 1024
