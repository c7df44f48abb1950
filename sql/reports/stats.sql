-- Counts of current reports per year, layout and status (gongkai stats); cells counted in one
-- aggregate over the cell table (streams: no per-report subquery).
WITH n AS (SELECT report_id, count(*) AS cells FROM cell GROUP BY report_id)
SELECT year, layout, status, count(*) AS reports, coalesce(sum(n.cells), 0) AS cells
FROM v_current_report r
LEFT JOIN n USING (report_id)
GROUP BY ALL
ORDER BY year NULLS LAST, layout, status
