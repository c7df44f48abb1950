-- Current cells, one row each (written one year at a time, into cells/year=YYYY/, each year's
-- rows ordered by agency and code). report_year repeats year inside each file: the partition
-- column itself lives in the folder name (cells/year=2023/), which is lost when one file is
-- copied on its own.
SELECT agency, agency_id, county_code, year, year AS report_year, layout, table_code, row_code, col_code, value, empty, raw, label_zh,
       source_url, report_id, table_index, grid_row, grid_col, glued_run, ocr
FROM v_cells
