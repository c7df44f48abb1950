-- Two versions of one report never hold the same content and output (loads are idempotent).
SELECT report_key, content_sha256, output_sha256, count(*) AS n
FROM report
GROUP BY ALL
HAVING count(*) > 1;
