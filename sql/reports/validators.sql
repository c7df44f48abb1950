-- For each URL a response came from (the final URL after redirects), the validators of its
-- latest fetch that produced a body (for conditional GETs).
SELECT coalesce(final_url, url) AS url, etag, last_modified, sha256
FROM fetch_log
WHERE sha256 IS NOT NULL AND error IS NULL AND coalesce(method, 'GET') = 'GET'
QUALIFY row_number() OVER (PARTITION BY coalesce(final_url, url) ORDER BY fetched_at DESC) = 1
