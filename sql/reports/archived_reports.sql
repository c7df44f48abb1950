-- Every report page in the archive: the latest good fetch of each report URL (for reparse).
SELECT coalesce(final_url, url) AS url, sha256, fetched_at
FROM fetch_log
WHERE kind = 'report' AND sha256 IS NOT NULL AND error IS NULL
QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) = 1
ORDER BY url
