-- Current report versions.
SELECT report_id, report_key, version, agency_id, agency, year, layout, title, source_url, publication_date,
       content_sha256, parser_version, status, warnings, uncertain, form, encoding, fetched_at, loaded_at
FROM v_current_report
ORDER BY report_id
