-- Schema version 5: each report version records how many cells it has (the loader knows it),
-- so `gongkai stats` counts cells without reading the cell table, and the cells_sound check
-- finds a report whose stored cells are not the number it was loaded with ('miscounted').
ALTER TABLE report ADD COLUMN n_cells INTEGER;
UPDATE report SET n_cells = coalesce(c.n, 0)
FROM (SELECT r.report_id, count(x.report_id) AS n FROM report r LEFT JOIN cell x USING (report_id) GROUP BY 1) c
WHERE report.report_id = c.report_id;
