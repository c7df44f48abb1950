-- A report version prints each cell once.
SELECT report_id, table_code, row_code, col_code, count(*) AS n
FROM cell
GROUP BY ALL
HAVING count(*) > 1;
