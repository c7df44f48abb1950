-- Counts of current reports per year, layout and status (gongkai stats), with their cells as
-- each report was loaded with (report.n_cells; the cells_sound check compares it with the cell
-- table, so the count needs no pass over the cells here).
SELECT year, layout, status, count(*) AS reports, coalesce(sum(n_cells), 0) AS cells
FROM v_current_report
GROUP BY ALL
ORDER BY year NULLS LAST, layout, status
