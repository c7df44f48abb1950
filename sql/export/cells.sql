-- Current cells, one row each (partitioned by year on export).
SELECT agency, agency_id, county_code, year, layout, table_code, row_code, col_code, value, empty, raw, label_zh,
       source_url, report_id, table_index, grid_row, grid_col, glued_run
FROM v_cells
ORDER BY year, agency, table_code, row_code, col_code
