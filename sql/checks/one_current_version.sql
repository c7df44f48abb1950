-- Every report has exactly one current version.
SELECT report_key, count(*) FILTER (is_current) AS current_versions
FROM report
GROUP BY report_key
HAVING count(*) FILTER (is_current) <> 1;
