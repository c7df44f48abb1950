-- Counts of current reports per year, layout and status (gongkai stats).
SELECT year, layout, status, count(*) AS reports,
       sum((SELECT count(*) FROM cell c WHERE c.report_id = r.report_id)) AS cells
FROM v_current_report r
GROUP BY ALL
ORDER BY year NULLS LAST, layout, status
