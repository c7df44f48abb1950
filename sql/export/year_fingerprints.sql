-- What the cells of each year are made of: the current reports (a new version is a new
-- report_id). An export reuses a year's files from the previous export when this is unchanged.
SELECT coalesce(CAST(year AS VARCHAR), 'NULL') AS year,
       count(*) || ':' || sum(report_id) || ':' || max(report_id) AS fingerprint
FROM v_current_report
WHERE status <> 'failed'
GROUP BY year
ORDER BY year
