-- At most one current report per agency and year (by agency id, whatever names it was printed with).
SELECT agency_id, year, count(*) AS current_reports
FROM report
WHERE is_current AND agency_id IS NOT NULL AND year IS NOT NULL AND status <> 'failed'
GROUP BY agency_id, year
HAVING count(*) > 1;
