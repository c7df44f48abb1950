-- Cells and check results belong to a report; reports to a known agency.
SELECT 'cell' AS kind, c.report_id FROM cell c ANTI JOIN report r USING (report_id)
UNION ALL
SELECT 'check_result', k.report_id FROM check_result k ANTI JOIN report r USING (report_id)
UNION ALL
SELECT 'report', r.report_id FROM report r ANTI JOIN agency a USING (agency_id) WHERE r.agency_id IS NOT NULL;
