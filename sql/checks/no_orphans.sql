-- Check results belong to a report; reports to a known agency. (Cells: cells_sound.sql, in its
-- one pass over the cell table.)
SELECT 'check_result' AS kind, k.report_id FROM check_result k ANTI JOIN report r USING (report_id)
UNION ALL
SELECT 'report', r.report_id FROM report r ANTI JOIN agency a USING (agency_id) WHERE r.agency_id IS NOT NULL;
