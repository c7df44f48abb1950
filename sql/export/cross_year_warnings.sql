-- Cross-year rule failures (warnings, not errors): x_carry and x_in_force between an agency's
-- reports of consecutive years.
SELECT rule, agency, agency_id, year, scope, expected, actual, detail
FROM v_cross_year_warnings
ORDER BY agency_id, year, rule, scope
