-- The same bytes are current under one report only.
SELECT content_sha256, list(report_key) AS report_keys
FROM report
WHERE is_current AND content_sha256 <> ''
GROUP BY content_sha256
HAVING count(*) > 1;
