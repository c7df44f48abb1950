-- For each URL, the validators of its latest fetch that produced a body (for conditional GETs).
SELECT url, etag, last_modified, sha256
FROM fetch_log
WHERE sha256 IS NOT NULL AND error IS NULL
QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) = 1
