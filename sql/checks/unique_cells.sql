-- A report version prints each cell once: per report, the number of cells equals the number of
-- distinct codes, counted as bits of a bitmap over the codes in use (one small state per report,
-- no hash table of every cell). Codes are told apart by their 64-bit hash: two codes sharing
-- one could only make a report look duplicated, never hide a duplicate. The last row flags more
-- codes in use than the bitmap holds.
WITH codes AS (
    SELECT h, CAST(row_number() OVER (ORDER BY h) - 1 AS UBIGINT) AS k
    FROM (SELECT DISTINCT hash(table_code, row_code, col_code) AS h FROM cell)
),
per_report AS (
    SELECT c.report_id, count(*) AS n,
           bit_count(bit_or(CASE WHEN k // 64 = 0 THEN CAST(1 AS UBIGINT) << (k % 64) ELSE CAST(0 AS UBIGINT) END))
         + bit_count(bit_or(CASE WHEN k // 64 = 1 THEN CAST(1 AS UBIGINT) << (k % 64) ELSE CAST(0 AS UBIGINT) END))
         + bit_count(bit_or(CASE WHEN k // 64 = 2 THEN CAST(1 AS UBIGINT) << (k % 64) ELSE CAST(0 AS UBIGINT) END))
         + bit_count(bit_or(CASE WHEN k // 64 = 3 THEN CAST(1 AS UBIGINT) << (k % 64) ELSE CAST(0 AS UBIGINT) END))
         + bit_count(bit_or(CASE WHEN k // 64 = 4 THEN CAST(1 AS UBIGINT) << (k % 64) ELSE CAST(0 AS UBIGINT) END))
         + bit_count(bit_or(CASE WHEN k // 64 = 5 THEN CAST(1 AS UBIGINT) << (k % 64) ELSE CAST(0 AS UBIGINT) END))
         + bit_count(bit_or(CASE WHEN k // 64 = 6 THEN CAST(1 AS UBIGINT) << (k % 64) ELSE CAST(0 AS UBIGINT) END))
         + bit_count(bit_or(CASE WHEN k // 64 = 7 THEN CAST(1 AS UBIGINT) << (k % 64) ELSE CAST(0 AS UBIGINT) END))
           AS distinct_codes
    FROM cell c JOIN codes ON codes.h = hash(c.table_code, c.row_code, c.col_code)
    GROUP BY c.report_id
)
SELECT report_id, n - distinct_codes AS duplicates FROM per_report WHERE n <> distinct_codes
UNION ALL
SELECT NULL, count(*) FROM codes HAVING count(*) > 512
