-- Rule outcomes of the current report versions.
SELECT k.report_id, r.agency, r.year, k.rule, k.scope, k.status, k.expected, k.actual, k.detail
FROM check_result k JOIN v_current_report r USING (report_id)
ORDER BY k.report_id, k.rule, k.scope
