-- A report (an agency and year, or a source) has at most one current version. (None when its
-- content is current under another report: the parser now names its agency differently.)
SELECT report_key, count(*) FILTER (is_current) AS current_versions
FROM report
GROUP BY report_key
HAVING count(*) FILTER (is_current) > 1;
